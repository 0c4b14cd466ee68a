package dev.scopegate.store.redis;

import java.util.TreeSet;

/**
 * Decides whether this replica missed a change notification. Every change takes a number from
 * the shared counter ({@code P seq}) and publishes it; this tracker records the numbers received
 * and, on each poll of the counter, asks: has a number that the counter had already passed at the
 * <em>previous</em> poll still not arrived? A whole poll interval is long enough for any message
 * in flight, so such a number was lost (a dropped subscription, a writer that died between taking
 * the number and publishing, a cluster bus hiccup) and the caller must drop its whole cache. A
 * counter that went backwards means Redis lost or flushed its data: the same answer.
 *
 * <p>So a lost notification leaves an entry stale for at most two poll intervals. Thread-safe
 * (messages arrive on Redis threads, polls on the store's scheduler).
 */
final class SequenceTracker {

    /** Received numbers above the watermark; bounded by what arrives within two polls. */
    private final TreeSet<Long> ahead = new TreeSet<>();
    /** Every number up to here was received or written off; -1 until the first poll. */
    private long watermark = -1;
    /** The counter's value at the previous poll; -1 before the first. */
    private long previous = -1;

    /** A subscription (re)started: what came before is unknown; the caller drops its cache. */
    synchronized void reset() {
        ahead.clear();
        watermark = -1;
        previous = -1;
    }

    /** A notification with number {@code seq} arrived. */
    synchronized void received(long seq) {
        if (watermark >= 0 && seq <= watermark) {
            return;
        }
        ahead.add(seq);
        advance();
    }

    /**
     * The counter reads {@code current}.
     *
     * @return true when a notification was missed (or Redis lost its counter): drop the cache
     */
    synchronized boolean polled(long current) {
        boolean missed = false;
        if (watermark < 0) {
            // First poll since (re)subscribing: everything up to now is covered by the reset.
            writeOffUpTo(current);
        } else if (current < watermark) {
            missed = true;
            ahead.clear();
            watermark = current;
        } else if (previous > watermark) {
            missed = true;
            writeOffUpTo(previous);
        }
        previous = current;
        return missed;
    }

    /** The highest number up to which nothing is missing (tests). */
    synchronized long watermark() {
        return watermark;
    }

    private void writeOffUpTo(long n) {
        watermark = Math.max(watermark, n);
        ahead.headSet(watermark, true).clear();
        advance();
    }

    private void advance() {
        if (watermark < 0) {
            return;
        }
        while (!ahead.isEmpty() && ahead.first() == watermark + 1) {
            watermark = ahead.pollFirst();
        }
    }
}
