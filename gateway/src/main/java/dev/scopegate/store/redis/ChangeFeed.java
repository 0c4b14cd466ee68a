package dev.scopegate.store.redis;

import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Cross-replica cache coherence: every change is announced on {@code P changes} as
 * {@code <seq> <origin> <client_id>}; each replica drops the named client from its cache unless it
 * wrote the change itself. Whatever may have been missed (a (re)subscription, a gap found by the
 * {@link SequenceTracker}) drops the whole cache instead.
 *
 * <p>Messages arrive on Lettuce's threads, polls on the store's scheduler; listeners must be
 * cheap and non-blocking (a Caffeine invalidation is). Thread-safe.
 */
final class ChangeFeed {

    private final String channel;
    private final String origin;
    private final SequenceTracker tracker = new SequenceTracker();
    private volatile Consumer<String> changed = clientId -> { };
    private volatile Runnable unknownChanges = () -> { };
    private volatile boolean subscribed;
    private volatile CompletableFuture<?> subscribing;
    /** Confined to the poll (the store's scheduler thread). */
    private long lastUnsubscribedPoll = -1;

    /** Clients dropped because another replica announced a change. */
    final LongAdder invalidations = new LongAdder();
    /** Times the whole cache was dropped (resubscription, missed notification, counter reset). */
    final LongAdder resyncs = new LongAdder();

    ChangeFeed(String channel, String origin) {
        this.channel = Objects.requireNonNull(channel, "channel");
        this.origin = Objects.requireNonNull(origin, "origin");
        if (origin.indexOf(' ') >= 0) {
            throw new IllegalArgumentException("origin must not contain a space");
        }
    }

    void listen(Consumer<String> changed, Runnable unknownChanges) {
        this.changed = Objects.requireNonNull(changed, "changed");
        this.unknownChanges = Objects.requireNonNull(unknownChanges, "unknownChanges");
    }

    /** The message announcing change number {@code seq} of {@code clientId}, written by this replica. */
    String message(long seq, String clientId) {
        return seq + " " + origin + " " + clientId;
    }

    /** Listens on {@code pubSub} and subscribes; Lettuce resubscribes by itself after a reconnect. */
    void attach(StatefulRedisPubSubConnection<String, String> pubSub) {
        pubSub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String ch, String message) {
                if (channel.equals(ch)) {
                    onMessage(message);
                }
            }

            @Override
            public void subscribed(String ch, long count) {
                if (channel.equals(ch)) {
                    onSubscribed();
                }
            }
        });
        subscribe(pubSub);
    }

    /** Retries a subscription that failed (called from the store's poll). */
    void ensureSubscribed(StatefulRedisPubSubConnection<String, String> pubSub) {
        CompletableFuture<?> s = subscribing;
        if (!subscribed && (s == null || s.isCompletedExceptionally())) {
            subscribe(pubSub);
        }
    }

    boolean subscribed() {
        return subscribed;
    }

    /**
     * The shared counter read {@code current}: drops the cache if a notification was missed.
     * Without a subscription (refused by an ACL, still failing) any change of the counter drops
     * it: coherence then rests on the poll alone.
     */
    void polled(long current) {
        if (subscribed) {
            if (tracker.polled(current)) {
                resync();
            }
        } else {
            if (lastUnsubscribedPoll >= 0 && current != lastUnsubscribedPoll) {
                resync();
            }
            lastUnsubscribedPoll = current;
        }
    }

    void onMessage(String message) {
        int first = message.indexOf(' ');
        int second = first < 0 ? -1 : message.indexOf(' ', first + 1);
        if (second < 0) {
            return; // not ours
        }
        long seq;
        try {
            seq = Long.parseLong(message.substring(0, first));
        } catch (NumberFormatException e) {
            return;
        }
        tracker.received(seq);
        if (!message.startsWith(origin, first + 1) || second != first + 1 + origin.length()) {
            invalidations.increment();
            changed.accept(message.substring(second + 1));
        }
    }

    void onSubscribed() {
        tracker.reset();
        subscribed = true;
        resync();
    }

    private void subscribe(StatefulRedisPubSubConnection<String, String> pubSub) {
        subscribing = pubSub.async().subscribe(channel).toCompletableFuture();
    }

    private void resync() {
        resyncs.increment();
        unknownChanges.run();
    }
}
