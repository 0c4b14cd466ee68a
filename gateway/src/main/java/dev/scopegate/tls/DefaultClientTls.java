package dev.scopegate.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLException;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The client TLS context of https origins without settings of their own: the JDK's trust store, no
 * client certificate. Built once, on first use or by {@link #prewarm} — not at start, because
 * loading the trust store costs 0.1–0.2 s of a sidecar's startup and most IdPs behind scopegate
 * are reached over plain HTTP. Thread-safe; {@link #get} blocks only while the one build runs.
 */
public final class DefaultClientTls implements Supplier<SslContext> {

    private volatile SslContext context;

    @Override
    public SslContext get() {
        SslContext c = context;
        if (c == null) {
            synchronized (this) {
                c = context;
                if (c == null) {
                    c = build();
                    context = c;
                }
            }
        }
        return c;
    }

    /** Whether the context has been built (for tests and diagnostics). */
    boolean built() {
        return context != null;
    }

    /** Builds the context on {@code executor} now (after start), so that no event loop does it later. */
    public void prewarm(Executor executor) {
        executor.execute(() -> {
            try {
                get();
            } catch (RuntimeException e) {
                // the first https connection tries again and fails with the reason
            }
        });
    }

    private static SslContext build() {
        try {
            return SslContextBuilder.forClient().build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the default TLS client context", e);
        }
    }
}
