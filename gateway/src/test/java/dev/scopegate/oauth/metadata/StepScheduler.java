package dev.scopegate.oauth.metadata;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A real one-thread scheduler, except that delayed tasks wait for the test: each
 * {@code schedule(task, delay > 0)} is recorded and runs only when {@link #fire()} takes it. Tests
 * thus see every delay the code asked for and decide when "later" is, without sleeping.
 */
final class StepScheduler extends ScheduledThreadPoolExecutor {

    record Pending(Duration delay, Runnable task, ScheduledFuture<?> handle) {}

    private final BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();

    StepScheduler() {
        super(1, r -> {
            Thread t = new Thread(r, "test-metadata-scheduler");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        if (delay <= 0) {
            return super.schedule(command, 0, unit);
        }
        // A real, cancellable handle that never fires by itself.
        ScheduledFuture<?> handle = super.schedule(() -> { }, 1, TimeUnit.DAYS);
        pending.add(new Pending(Duration.ofNanos(unit.toNanos(delay)), command, handle));
        return handle;
    }

    /** Waits (up to 5 s) for the next delayed task to be scheduled and returns it without running it. */
    Pending awaitPending() throws InterruptedException {
        Pending p = pending.poll(5, TimeUnit.SECONDS);
        if (p == null) {
            throw new AssertionError("nothing was scheduled");
        }
        return p;
    }

    /** Runs {@code p} now unless it was cancelled. */
    void fire(Pending p) {
        if (p.handle().cancel(false)) {
            execute(p.task());
        }
    }

    /** True when no delayed task is waiting. */
    boolean nothingPending() {
        return pending.isEmpty();
    }
}
