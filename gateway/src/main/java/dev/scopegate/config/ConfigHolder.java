package dev.scopegate.config;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The current configuration snapshot. Readers call {@link #current()} once per request and use
 * that snapshot throughout, so a reload never mixes two configs within one request.
 *
 * <p>Thread-safe: {@link #current()} is a lock-free volatile read from any thread, including event
 * loops. {@link #swap} is serialized, so listeners see swaps one at a time and in swap order; they
 * run on the swapping thread (never an event loop) and should be quick.
 */
public final class ConfigHolder {

    private static final Logger log = LoggerFactory.getLogger(ConfigHolder.class);

    private final AtomicReference<ScopegateConfig> current;
    private final List<Consumer<ScopegateConfig>> listeners = new CopyOnWriteArrayList<>();
    private final Object swapLock = new Object();

    public ConfigHolder(ScopegateConfig initial) {
        this.current = new AtomicReference<>(Objects.requireNonNull(initial, "initial"));
    }

    public ScopegateConfig current() {
        return current.get();
    }

    /**
     * Installs {@code next}, then calls every listener with it. A listener that throws is logged
     * and skipped: the swap has happened and the other listeners still need to hear about it.
     *
     * @return the configuration that was current before
     */
    public ScopegateConfig swap(ScopegateConfig next) {
        Objects.requireNonNull(next, "next");
        synchronized (swapLock) {
            ScopegateConfig previous = current.getAndSet(next);
            for (Consumer<ScopegateConfig> listener : listeners) {
                try {
                    listener.accept(next);
                } catch (RuntimeException e) {
                    log.error("config listener {} failed after a config swap", listener, e);
                }
            }
            return previous;
        }
    }

    /** {@code listener} is called after each later {@link #swap}, with the new configuration. */
    public void addListener(Consumer<ScopegateConfig> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }
}
