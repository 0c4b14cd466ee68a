package dev.scopegate.tls;

import dev.scopegate.config.ConfigWatcher;
import dev.scopegate.config.PemFiles;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.TlsMetrics;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A Netty {@link SslContext} built from the operator's PEM files ({@code listen.tls} or
 * {@code upstream.tls}) and rebuilt when they change, as cert-manager and Kubernetes Secret volumes
 * change them (in place, or by swapping the {@code ..data} symlink).
 *
 * <p>{@link #get()} returns the context in use; pipelines ask for it at each new connection, so a
 * swap applies to the connections opened after it while open connections keep their session.
 * {@link #reloadIfChanged()} re-reads the files: when their bytes differ from those in use, it
 * parses and checks them as the config check does ({@link PemFiles}: PEM, a key that belongs to the
 * certificate), builds a new context and swaps it in. Files that cannot be used (unreadable, not PEM,
 * a key of another certificate, a pair caught half-written) leave the running context in place, log
 * one line and count {@code scopegate_tls_reloads_total{outcome="failed"}}; the same broken bytes
 * are neither retried nor counted again until they change.
 *
 * <p>Thread-safe: {@link #get()} from any thread (event loops included: a volatile read);
 * {@link #reloadIfChanged()} is serialized and runs on the watch thread ({@link #watch}), never on an
 * event loop.
 */
public final class ReloadingSslContext implements Supplier<SslContext>, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReloadingSslContext.class);

    /** What {@link #reloadIfChanged()} did. */
    public enum Outcome { UNCHANGED, RELOADED, FAILED }

    /** One file and the config key that names it ({@code listen.tls.cert}). */
    private record PemFile(String key, Path path) {}

    /** Builds a context from the files' contents (in {@code files} order); messages name key and file. */
    private interface Builder {
        Built build(List<byte[]> contents) throws InvalidFilesException;
    }

    /** A context and the certificate it presents (null: a client without certificate). */
    private record Built(SslContext context, /* nullable */ X509Certificate presented, String description) {}

    private record Loaded(List<byte[]> contents, Built built) {}

    /** The files cannot be used; the message names the key and the file. */
    public static final class InvalidFilesException extends Exception {
        InvalidFilesException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final String section;
    private final String metricContext;
    private final List<PemFile> files;
    private final Builder builder;
    private final TlsMetrics metrics;
    private volatile Loaded current;
    private List<byte[]> lastFailed; // guarded by this
    private ConfigWatcher watcher;   // guarded by this

    private ReloadingSslContext(String section, String metricContext, List<PemFile> files, Builder builder,
                                TlsMetrics metrics) throws InvalidFilesException {
        this.section = section;
        this.metricContext = metricContext;
        this.files = List.copyOf(files);
        this.builder = builder;
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        List<byte[]> contents = read();
        current = new Loaded(contents, builder.build(contents));
        metrics.declare(metricContext);
        presenting(current.built());
        log.info("{}: {}", section, current.built().description());
    }

    /**
     * The listener's context from {@code listen.tls} (which must be enabled).
     *
     * @throws InvalidFilesException when the files cannot be used (the gateway cannot start)
     */
    public static ReloadingSslContext server(ScopegateConfig.Tls tls, TlsMetrics metrics) throws InvalidFilesException {
        if (!tls.enabled()) {
            throw new IllegalArgumentException("listen.tls is not set");
        }
        List<PemFile> files = List.of(new PemFile("listen.tls.cert", Path.of(tls.cert())),
                new PemFile("listen.tls.key", Path.of(tls.key())));
        return new ReloadingSslContext("listen.tls", TlsMetrics.LISTENER, files, contents -> {
            List<X509Certificate> chain = certificates(files.get(0), contents.get(0));
            PrivateKey key = privateKey(files.get(1), contents.get(1), files.get(0), chain.get(0));
            SslContext context = build(() -> SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new))
                    .build());
            return new Built(context, chain.get(0), describe(chain.get(0)));
        }, metrics);
    }

    /**
     * The context of connections to the IdP's origin from {@code upstream.tls} (which must be
     * configured): its CA bundle replaces the JDK trust store when set, its certificate and key are
     * the client certificate when set.
     *
     * @throws InvalidFilesException when the files cannot be used (the gateway cannot start)
     */
    public static ReloadingSslContext client(ScopegateConfig.UpstreamTls tls, TlsMetrics metrics)
            throws InvalidFilesException {
        if (!tls.configured()) {
            throw new IllegalArgumentException("upstream.tls is not set");
        }
        List<PemFile> files = new ArrayList<>();
        PemFile ca = tls.ca() == null ? null : new PemFile("upstream.tls.ca", Path.of(tls.ca()));
        PemFile cert = tls.cert() == null ? null : new PemFile("upstream.tls.cert", Path.of(tls.cert()));
        PemFile key = tls.cert() == null ? null : new PemFile("upstream.tls.key", Path.of(tls.key()));
        for (PemFile f : Arrays.asList(ca, cert, key)) {
            if (f != null) {
                files.add(f);
            }
        }
        return new ReloadingSslContext("upstream.tls", TlsMetrics.UPSTREAM, files, contents -> {
            int i = 0;
            SslContextBuilder b = SslContextBuilder.forClient();
            List<String> description = new ArrayList<>();
            X509Certificate presented = null;
            if (ca != null) {
                List<X509Certificate> trusted = certificates(ca, contents.get(i++));
                b.trustManager(trusted.toArray(X509Certificate[]::new));
                description.add("trusting " + trusted.size() + " CA certificate" + (trusted.size() == 1 ? "" : "s"));
            }
            if (cert != null) {
                List<X509Certificate> chain = certificates(cert, contents.get(i++));
                PrivateKey privateKey = privateKey(key, contents.get(i), cert, chain.get(0));
                b.keyManager(privateKey, chain.toArray(X509Certificate[]::new));
                presented = chain.get(0);
                description.add("client certificate " + describe(presented));
            }
            return new Built(build(b::build), presented, String.join(", ", description));
        }, metrics);
    }

    @Override
    public SslContext get() {
        return current.built().context();
    }

    /**
     * Re-reads the files and swaps the context in when they changed and are usable. Blocking (file
     * reads, key checks): not for event loops.
     */
    public synchronized Outcome reloadIfChanged() {
        List<byte[]> contents;
        Built built;
        try {
            contents = read();
            if (same(contents, current.contents()) || same(contents, lastFailed)) {
                return Outcome.UNCHANGED;
            }
            built = builder.build(contents);
        } catch (InvalidFilesException e) {
            List<byte[]> seen = readQuietly();
            if (seen != null && same(seen, lastFailed)) {
                return Outcome.UNCHANGED;
            }
            lastFailed = seen;
            metrics.reloaded(metricContext, false);
            log.warn("{} files changed but cannot be used, keeping the running ones: {}", section, e.getMessage());
            return Outcome.FAILED;
        }
        current = new Loaded(contents, built);
        lastFailed = null;
        metrics.reloaded(metricContext, true);
        presenting(built);
        log.info("{}: reloaded {}: {}", section, files.stream().map(f -> f.path().toString()).toList(),
                built.description());
        return Outcome.RELOADED;
    }

    /**
     * Watches the files (and, for symlinks, their targets' directories) and calls
     * {@link #reloadIfChanged()} once they have been quiet for {@code debounce}. Idempotent.
     */
    public synchronized ReloadingSslContext watch(Duration debounce) throws IOException {
        if (watcher == null) {
            watcher = new ConfigWatcher(files.stream().map(PemFile::path).toList(), debounce, this::reloadIfChanged,
                    "scopegate-tls-watch-" + metricContext).start();
        }
        return this;
    }

    /** Stops watching; the context in use stays valid. */
    @Override
    public void close() {
        ConfigWatcher w;
        synchronized (this) {
            w = watcher;
            watcher = null;
        }
        if (w != null) {
            w.close();
        }
    }

    /** What the context in use presents and trusts, for a log line. */
    public String description() {
        return current.built().description();
    }

    private void presenting(Built built) {
        if (built.presented() != null) {
            metrics.inUse(metricContext, built.presented());
        }
    }

    private List<byte[]> read() throws InvalidFilesException {
        List<byte[]> out = new ArrayList<>(files.size());
        for (PemFile f : files) {
            try {
                out.add(Files.readAllBytes(f.path()));
            } catch (IOException e) {
                throw new InvalidFilesException(f.key() + ": '" + f.path() + "' cannot be read: " + e, e);
            }
        }
        return out;
    }

    /** The files' bytes as far as they can be read, null when one cannot be. */
    private List<byte[]> readQuietly() {
        try {
            return read();
        } catch (InvalidFilesException e) {
            return null;
        }
    }

    private static boolean same(List<byte[]> a, /* nullable */ List<byte[]> b) {
        if (b == null || a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static List<X509Certificate> certificates(PemFile f, byte[] pem) throws InvalidFilesException {
        try {
            return PemFiles.certificates(pem);
        } catch (PemFiles.PemException e) {
            throw new InvalidFilesException(f.key() + ": '" + f.path() + "' " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(PemFile f, byte[] pem, PemFile certFile, X509Certificate leaf)
            throws InvalidFilesException {
        try {
            PrivateKey key = PemFiles.privateKey(pem);
            try {
                PemFiles.checkPair(key, leaf);
            } catch (PemFiles.PemException e) {
                throw new InvalidFilesException(f.key() + ": '" + f.path() + "': " + e.getMessage() + " in "
                        + certFile.key() + " '" + certFile.path() + "'", e);
            }
            return key;
        } catch (PemFiles.PemException e) {
            throw new InvalidFilesException(f.key() + ": '" + f.path() + "' " + e.getMessage(), e);
        }
    }

    private interface ContextBuild {
        SslContext build() throws Exception;
    }

    private static SslContext build(ContextBuild build) throws InvalidFilesException {
        try {
            return build.build();
        } catch (Exception e) {
            throw new InvalidFilesException("cannot build a TLS context: " + e.getMessage(), e);
        }
    }

    private static String describe(X509Certificate c) {
        return c.getSubjectX500Principal().getName() + " (serial " + c.getSerialNumber().toString(16) + ", expires "
                + c.getNotAfter().toInstant() + ")";
    }
}
