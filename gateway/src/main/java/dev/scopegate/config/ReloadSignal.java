package dev.scopegate.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.Objects;

/**
 * Runs an action on {@code SIGHUP}, the Unix convention for "re-read your config". Without it the
 * JVM treats {@code SIGHUP} as a request to shut down, so installing it also stops an accidental
 * {@code kill -HUP} from ending the process. Signals are process-wide: {@link #close()} puts the
 * previous handler back, so the last gateway started in a JVM owns the signal.
 *
 * <p>Uses {@code sun.misc.Signal} (module {@code jdk.unsupported}, present in every JDK 17
 * runtime); where the platform or the JVM ({@code -Xrs}) refuses, {@link #install} returns a
 * handle whose {@link #installed()} is false and the file watch remains the way to reload.
 * The action runs on a JVM signal thread. Thread-safe.
 */
public final class ReloadSignal implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReloadSignal.class);

    private final Signal signal;
    private final SignalHandler previous;

    private ReloadSignal(Signal signal, SignalHandler previous) {
        this.signal = signal;
        this.previous = previous;
    }

    /** Installs {@code action} as the {@code SIGHUP} handler; never throws. */
    public static ReloadSignal install(Runnable action) {
        Objects.requireNonNull(action, "action");
        try {
            Signal hup = new Signal("HUP");
            SignalHandler previous = Signal.handle(hup, s -> {
                try {
                    action.run();
                } catch (RuntimeException e) {
                    log.error("SIGHUP handler failed", e);
                }
            });
            return new ReloadSignal(hup, previous);
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            log.warn("SIGHUP reload unavailable here ({}); edits of the config file still reload it", e.toString());
            return new ReloadSignal(null, null);
        }
    }

    public boolean installed() {
        return signal != null;
    }

    @Override
    public void close() {
        if (signal != null) {
            try {
                Signal.handle(signal, previous);
            } catch (IllegalArgumentException e) {
                log.debug("restoring the SIGHUP handler: {}", e.toString());
            }
        }
    }
}
