package dev.scopegate.store.redis;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class ChangeFeedTest {

    final List<String> changed = new ArrayList<>();
    final AtomicInteger dropAll = new AtomicInteger();
    final ChangeFeed feed = new ChangeFeed("p:changes", "me");

    ChangeFeedTest() {
        feed.listen(changed::add, dropAll::incrementAndGet);
    }

    @Test
    void anotherReplicasChangeDropsThatClientOnlyAndTheWritersOwnIsIgnored() {
        feed.onSubscribed();
        feed.polled(0);
        int afterSubscribe = dropAll.get();

        feed.onMessage(feed.message(1, "mine"));
        feed.onMessage("2 other client with spaces");
        feed.onMessage("3 meh c3"); // an origin that merely starts like ours
        feed.onMessage("garbage");
        feed.onMessage("x other c4");

        assertThat(changed).containsExactly("client with spaces", "c3");
        assertThat(feed.invalidations.sum()).isEqualTo(2);
        feed.polled(3);
        feed.polled(3);
        assertThat(dropAll.get()).isEqualTo(afterSubscribe); // 1, 2 and 3 all arrived
    }

    @Test
    void aSubscriptionDropsTheWholeCacheBecauseWhatCameBeforeIsUnknown() {
        feed.onSubscribed();
        feed.onSubscribed(); // resubscribed after a reconnect

        assertThat(dropAll.get()).isEqualTo(2);
        assertThat(feed.resyncs.sum()).isEqualTo(2);
    }

    @Test
    void aNumberThatNeverArrivesDropsTheWholeCache() {
        feed.onSubscribed();
        feed.polled(10);
        int before = dropAll.get();

        feed.polled(11);
        feed.polled(11);

        assertThat(dropAll.get()).isEqualTo(before + 1);
    }

    @Test
    void withoutASubscriptionEveryCounterChangeDropsTheWholeCache() {
        feed.polled(5);
        feed.polled(5);
        assertThat(dropAll.get()).isZero();

        feed.polled(6);

        assertThat(dropAll.get()).isEqualTo(1);
    }
}
