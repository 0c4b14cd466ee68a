package dev.scopegate.oauth.document;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Host name to addresses, as the SSRF guard sees them. Implementations may block (DNS); callers
 * run them on a dedicated executor, never on an I/O thread. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface Resolver {

    /** All addresses of {@code host}; never empty on success. */
    InetAddress[] resolve(String host) throws UnknownHostException;

    /** The JVM's resolver ({@link InetAddress#getAllByName}), which blocks. */
    static Resolver system() {
        return InetAddress::getAllByName;
    }

    /**
     * A small executor for {@link #system()}: {@code threads} daemon threads named
     * {@code scopegate-dns-N} and a bounded queue, so that a hanging DNS server makes lookups fail
     * fast ({@link java.util.concurrent.RejectedExecutionException}) instead of piling up. The
     * caller owns it and shuts it down.
     */
    static ExecutorService newExecutor(int threads) {
        AtomicInteger n = new AtomicInteger();
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(256), r -> {
            Thread t = new Thread(r, "scopegate-dns-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }
}
