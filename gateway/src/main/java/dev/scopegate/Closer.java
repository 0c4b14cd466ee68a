package dev.scopegate;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;

/**
 * The stop steps of what {@link Gateway} has built or started so far, run in reverse order: a
 * part is pushed the moment it exists, so a start that fails part way closes exactly what was
 * made before the failure, and a normal stop closes everything, last made first. Every step runs
 * even when an earlier one throws. Thread-safe; {@link #close} runs each step at most once.
 */
final class Closer {

    private static final Logger log = LoggerFactory.getLogger(Closer.class);

    private record Step(String what, AutoCloseable step) {
    }

    private final Deque<Step> steps = new ArrayDeque<>();

    /** Registers {@code part}'s own {@code close()}; returns {@code part}. */
    <T extends AutoCloseable> T own(String what, T part) {
        push(what, part);
        return part;
    }

    /** Registers {@code step}, to run before every step registered earlier. */
    synchronized void push(String what, AutoCloseable step) {
        steps.push(new Step(Objects.requireNonNull(what, "what"), Objects.requireNonNull(step, "step")));
    }

    /**
     * Runs every registered step, newest first, and forgets them (a second call does nothing).
     * A step that throws is recorded and the rest still run.
     *
     * @param cause the failure that made the caller give up, or null for a normal stop: the
     *              steps' failures are added to it as suppressed, else logged
     */
    void close(/* nullable */ Throwable cause) {
        while (true) {
            Step s;
            synchronized (this) {
                s = steps.poll();
            }
            if (s == null) {
                return;
            }
            try {
                s.step().close();
            } catch (Exception | Error e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                if (cause != null) {
                    cause.addSuppressed(e);
                } else {
                    log.warn("stopping {} failed: {}", s.what(), StartChecks.oneLine(e), e);
                }
            }
        }
    }
}
