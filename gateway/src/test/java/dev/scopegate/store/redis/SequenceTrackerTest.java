package dev.scopegate.store.redis;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class SequenceTrackerTest {

    @Test
    void everyNumberReceivedMeansNothingMissed() {
        SequenceTracker t = new SequenceTracker();
        assertThat(t.polled(10)).isFalse(); // first poll: the baseline
        t.received(11);
        t.received(12);
        assertThat(t.polled(12)).isFalse();
        assertThat(t.polled(12)).isFalse();
        assertThat(t.watermark()).isEqualTo(12);
    }

    @Test
    void outOfOrderArrivalIsNotALoss() {
        SequenceTracker t = new SequenceTracker();
        t.polled(0);
        t.received(2); // two writers: number 2 published before number 1
        assertThat(t.polled(2)).isFalse();
        t.received(1);
        assertThat(t.polled(2)).isFalse();
        assertThat(t.watermark()).isEqualTo(2);
    }

    @Test
    void aNumberStillInFlightAtOnePollIsNotALossYet() {
        SequenceTracker t = new SequenceTracker();
        t.polled(5);
        assertThat(t.polled(6)).isFalse(); // 6 taken, its message not here yet
        t.received(6);
        assertThat(t.polled(6)).isFalse();
    }

    @Test
    void aNumberMissingForAWholePollIntervalIsALoss() {
        SequenceTracker t = new SequenceTracker();
        t.polled(5);
        t.received(7);
        assertThat(t.polled(7)).isFalse();
        assertThat(t.polled(7)).isTrue(); // 6 never came
        assertThat(t.watermark()).isEqualTo(7);
        assertThat(t.polled(7)).isFalse(); // reported once
    }

    @Test
    void aCounterThatWentBackMeansRedisLostItsData() {
        SequenceTracker t = new SequenceTracker();
        t.polled(100);
        assertThat(t.polled(3)).isTrue();
        assertThat(t.polled(3)).isFalse();
        t.received(4);
        assertThat(t.polled(4)).isFalse();
    }

    @Test
    void messagesBeforeTheFirstPollAreKept() {
        SequenceTracker t = new SequenceTracker();
        t.received(11); // arrived between subscribing and the first poll, numbered after it
        assertThat(t.polled(10)).isFalse();
        assertThat(t.watermark()).isEqualTo(11);
        assertThat(t.polled(11)).isFalse();
        assertThat(t.polled(11)).isFalse();
    }

    @Test
    void resetStartsOver() {
        SequenceTracker t = new SequenceTracker();
        t.polled(5);
        t.reset();
        assertThat(t.watermark()).isEqualTo(-1);
        assertThat(t.polled(50)).isFalse();
    }

    /** Whatever the arrival order, delivering every number never reports a loss; dropping one always does. */
    @Property(tries = 200)
    void lossIsReportedIffANumberIsDropped(@ForAll @IntRange(min = 1, max = 40) int n,
                                           @ForAll @IntRange(min = 0, max = 40) int drop,
                                           @ForAll long seed) {
        List<Long> numbers = new ArrayList<>();
        for (long i = 1; i <= n; i++) {
            numbers.add(i);
        }
        Collections.shuffle(numbers, new Random(seed));
        boolean dropOne = drop < n;
        if (dropOne) {
            numbers.remove(Long.valueOf(drop + 1));
        }
        SequenceTracker t = new SequenceTracker();
        t.polled(0);
        numbers.forEach(t::received);
        boolean lost = t.polled(n) | t.polled(n);
        assertThat(lost).isEqualTo(dropOne);
    }
}
