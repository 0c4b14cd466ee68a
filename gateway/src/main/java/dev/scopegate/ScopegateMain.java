package dev.scopegate;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.admin.AdminServer;
import dev.scopegate.config.ConfigException;
import dev.scopegate.config.ConfigHolder;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.fetch.NettyHttpFetcher;
import dev.scopegate.logging.BufferedLineAppender;
import dev.scopegate.metrics.ProxyMetrics;
import dev.scopegate.metrics.ScopeMetrics;
import dev.scopegate.oauth.AuditLog;
import dev.scopegate.oauth.PendingScopes;
import dev.scopegate.oauth.ScopeNormalizer;
import dev.scopegate.oauth.document.AddressGuard;
import dev.scopegate.oauth.document.ClientIdMetadataDocuments;
import dev.scopegate.oauth.document.Resolver;
import dev.scopegate.oauth.document.ResourceMetadataCache;
import dev.scopegate.oauth.metadata.MetadataService;
import dev.scopegate.oauth.scope.ScopeResolver;
import dev.scopegate.proxy.AccessLog;
import dev.scopegate.proxy.Lifecycle;
import dev.scopegate.proxy.ProxyServer;
import dev.scopegate.proxy.ProxySettings;
import dev.scopegate.proxy.Transport;
import dev.scopegate.proxy.route.RouteTable;
import dev.scopegate.proxy.route.RouteKind;
import dev.scopegate.proxy.upstream.OffLoopResolverGroup;
import dev.scopegate.proxy.upstream.Origin;
import dev.scopegate.proxy.upstream.UpstreamClient;
import dev.scopegate.proxy.upstream.UpstreamFailure;
import dev.scopegate.store.RegistrationRepository;
import dev.scopegate.store.RegistrationStore;
import dev.scopegate.store.embedded.SqliteRegistrationStore;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import dev.scopegate.config.ConfigReloader;
import dev.scopegate.config.ConfigWatcher;
import dev.scopegate.config.ReloadSignal;
import dev.scopegate.metrics.BuildInfoMetrics;
import dev.scopegate.metrics.LogMetrics;
import dev.scopegate.metrics.MeteredRegistrationStore;
import dev.scopegate.metrics.MeterNames;
import dev.scopegate.metrics.MetadataMetrics;
import dev.scopegate.metrics.ReadinessMetrics;
import dev.scopegate.metrics.MetricsRegistry;
import dev.scopegate.metrics.ReloadMetrics;
import dev.scopegate.metrics.TlsMetrics;
import dev.scopegate.tls.ReloadingSslContext;
import dev.scopegate.store.redis.RedisRegistrationStore;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.io.File;
import java.net.URI;
import java.net.URL;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The composition root: loads the config, builds every part by constructor, starts them in
 * order and stops them in reverse on shutdown (SIGTERM/SIGINT). Started from a file, it reloads
 * that file when it changes and on SIGHUP ({@link ConfigReloader}).
 *
 * The command line ({@code start}, {@code check}, {@code import}, {@code store copy},
 * {@code healthcheck}, {@code demo}) is {@link Cli}.
 */
public final class ScopegateMain implements AutoCloseable {

    static final String DEFAULT_CONFIG = "config/scopegate.yaml";
    private static final Duration CLIENT_IDLE_TIMEOUT = Duration.ofSeconds(75);
    /** How often the number of stored registrations is re-counted for its gauge. */
    private static final Duration STORE_COUNT_INTERVAL = Duration.ofSeconds(30);
    /** How often the store is pinged for {@code scopegate_store_up} (each {@code /readyz} pings too). */
    private static final Duration STORE_PING_INTERVAL = Duration.ofSeconds(5);

    private final ConfigHolder config;
    private final MetricsRegistry metrics;
    private final PrometheusMeterRegistry registry;
    private final ReloadMetrics reloadMetrics;
    private final Transport transport;
    private final ExecutorService blocking;
    private final ScheduledExecutorService scheduler;
    private final RegistrationStore store;
    private final RegistrationRepository registrations;
    private final NettyHttpFetcher fetcher;
    private final NettyHttpFetcher documentFetcher;
    private final MetadataService metadata;
    private final UpstreamClient upstream;
    /** Certificate files of listen.tls and upstream.tls, re-read when they change; null when not set. */
    private final ReloadingSslContext listenerTls;
    private final ReloadingSslContext idpTls;
    private final ProxyServer proxy;
    private final AdminServer admin;
    /** The probes-only listener of {@code health.port}; null when that is 0. */
    private final AdminServer health;
    private final Duration drainTimeout;
    private final Lifecycle lifecycle = new Lifecycle();
    private volatile ConfigReloader reloader;
    private volatile ConfigWatcher watcher;
    private volatile ReloadSignal hangup;

    /**
     * Caffeine reports a failed asynchronous load through java.util.logging with a stack trace,
     * once per failed store read: the store already logs and counts those (store errors), so
     * the duplicate is switched off. Held here: JUL keeps loggers only weakly.
     */
    private static final java.util.logging.Logger CAFFEINE_LOG = quiet("com.github.benmanes.caffeine");

    private static java.util.logging.Logger quiet(String name) {
        java.util.logging.Logger l = java.util.logging.Logger.getLogger(name);
        l.setLevel(java.util.logging.Level.OFF);
        return l;
    }

    private ScopegateMain(ScopegateConfig initial) throws Exception {
        Logger log = LoggerFactory.getLogger(ScopegateMain.class);
        this.config = new ConfigHolder(initial);
        this.drainTimeout = initial.listen().drainTimeout();
        StartChecks.refuse(initial);
        BuildInfo build = BuildInfo.current();
        Clock clock = Clock.systemUTC();

        metrics = MetricsRegistry.create();
        registry = metrics.registry();
        reloadMetrics = new ReloadMetrics(registry);
        LogMetrics.bind(registry, LoggerFactory.getILoggerFactory(), BufferedLineAppender::droppedIn);
        BuildInfoMetrics.bind(registry, build.version(), build.revision());

        transport = Transport.create(0, true);
        blocking = Executors.newCachedThreadPool(daemon("scopegate-blocking"));
        scheduler = Executors.newSingleThreadScheduledExecutor(daemon("scopegate-scheduler"));

        RegistrationStore opened = openStore(initial, true);
        RedisRegistrationStore shared = opened instanceof RedisRegistrationStore r ? r : null;
        MeteredRegistrationStore meteredStore = new MeteredRegistrationStore(opened, registry);
        store = meteredStore;
        scheduler.scheduleWithFixedDelay(meteredStore::refreshCount, 0, STORE_COUNT_INTERVAL.toMillis(),
                TimeUnit.MILLISECONDS);
        // Asynchronous: the scheduler thread only sends the ping; the answer sets scopegate_store_up.
        scheduler.scheduleWithFixedDelay(meteredStore::ping, 0, STORE_PING_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        // Cache maintenance (draining the read buffers every few reads) runs on the thread that
        // triggers it: it is short and never blocks, and handing it to a pool cost every ~16th
        // cached read a thread wake-up (futex, context switch) that showed in the authorize profile.
        registrations = new RegistrationRepository(store, initial.cache().registrations().maxSize(),
                initial.cache().unknownClients().maxSize(), initial.cache().registrations().expireAfterAccess(),
                RegistrationRepository.DEFAULT_NEGATIVE_TTL, shared == null ? null : shared.cacheRefresh(),
                Ticker.systemTicker(), Runnable::run, clock);
        if (shared != null) {
            // Other replicas write the same Redis: their changes evict ours (cross-replica coherence).
            shared.onRemoteChange(registrations::invalidate, registrations::invalidateAll);
            shared.bindTo(registry);
        }
        CaffeineCacheMetrics.monitor(registry, registrations.cache(), MeterNames.CACHE_REGISTRATIONS);
        CaffeineCacheMetrics.monitor(registry, registrations.unknownClients(), MeterNames.CACHE_UNKNOWN_CLIENTS);

        // upstream.tls applies to every connection to the IdP's origin: proxied requests and metadata.
        URI upstreamUrl = initial.upstream().url();
        TlsMetrics tlsMetrics = new TlsMetrics(registry);
        idpTls = initial.upstream().tls().configured()
                ? ReloadingSslContext.client(initial.upstream().tls(), tlsMetrics) : null;
        NettyHttpFetcher.Builder fetcherBuilder = NettyHttpFetcher.builder(transport.workers())
                .channelType(transport.channelType()).resolverExecutor(blocking);
        if (idpTls != null) {
            fetcherBuilder.sslContext(upstreamUrl, idpTls);
        }
        fetcher = fetcherBuilder.build();
        metadata = new MetadataService(fetcher, upstreamUrl, initial.publicBaseUrl(),
                MetadataService.issuerPathOf(initial.publicBaseUrl()), initial.metadata().refresh(),
                scheduler, clock, initial.metadata().augment());
        MetadataMetrics.bind(registry, metadata, clock);
        ReadinessMetrics.bind(registry, () -> lifecycle.listening() && !lifecycle.draining() && metadata.ready());
        Set<String> origins = new HashSet<>();
        origins.add(Origin.of(upstreamUrl).toString());
        if (initial.publicBaseUrl() != null) {
            origins.add(Origin.of(initial.publicBaseUrl()).toString());
        }
        initial.routes().forEach(r -> origins.add(Origin.of(r.url()).toString()));
        ResourceMetadataCache resources = new ResourceMetadataCache(initial.resources(), origins, fetcher,
                System::nanoTime);
        // Client ID metadata documents come from anywhere: the guard checks the address actually
        // connected to, so a DNS answer that changes between check and connect gains nothing.
        boolean allowPrivate = initial.scope().document().allowPrivate();
        documentFetcher = NettyHttpFetcher.builder(transport.workers()).channelType(transport.channelType())
                .resolverExecutor(blocking).addressFilter(a -> AddressGuard.permitted(a, allowPrivate)).build();
        ClientIdMetadataDocuments documents = new ClientIdMetadataDocuments(initial.scope().document(),
                documentFetcher, Resolver.system(), blocking, System::nanoTime);

        Supplier<ScopeResolver> resolver = derived(config, c -> new ScopeResolver(c.scope()));
        ScopeNormalizer normalizer = new ScopeNormalizer(resolver, registrations, metadata::cachedOrNull,
                resources, documents);
        ScopeMetrics scopeMetrics = new ScopeMetrics(registry);
        declareScopeMeters(scopeMetrics, initial);
        RouteTable router = new RouteTable(config::current, metadata, resources, normalizer, registrations,
                scopeMetrics, new AuditLog(initial.logging().json()), clock,
                new PendingScopes(100_000, Duration.ofMinutes(10), Ticker.systemTicker()));

        ProxyMetrics proxyMetrics = new ProxyMetrics(registry,
                Arrays.stream(RouteKind.values()).map(RouteKind::label).toArray(String[]::new));
        proxyMetrics.declareUpstreamErrors(Arrays.stream(UpstreamFailure.Kind.values()).map(UpstreamFailure.Kind::label).toList());
        upstream = new UpstreamClient(transport.channelType(), new OffLoopResolverGroup(blocking),
                new UpstreamClient.Settings(initial.upstream().connectTimeout(), initial.upstream().maxConnections(),
                        transport.threads(), initial.upstream().idleTimeout(), 65536),
                upstreamTls(Origin.of(upstreamUrl), idpTls));
        Supplier<ProxySettings> settings = derived(config, ProxySettings::from);
        ScopegateConfig.Listen listen = initial.listen();
        listenerTls = listen.tls().enabled() ? ReloadingSslContext.server(listen.tls(), tlsMetrics) : null;
        proxy = new ProxyServer(transport, new ProxyServer.Listener(listen.host(), listen.port(), listenerTls,
                initial.limits().maxInitialLineBytes(), initial.limits().maxHeaderBytes(), CLIENT_IDLE_TIMEOUT),
                settings, upstream, router, proxyMetrics, new AccessLog(initial.logging().json()), lifecycle);
        admin = new AdminServer(transport, initial.admin().host(), initial.admin().port(), config::current, registry,
                new AdminServer.Readiness(lifecycle::listening, lifecycle::draining, metadata::ready, store::ping),
                registrations, normalizer);
        ScopegateConfig.Health h = initial.health();
        health = h.listenerEnabled() ? admin.probesOnly(h.host(), h.port()) : null;

        // What a reload changes beyond the per-request snapshot reads (derived suppliers above).
        config.addListener(c -> metadata.reconfigure(c.metadata().refresh(), c.metadata().augment()));
        config.addListener(c -> declareScopeMeters(scopeMetrics, c));

        try {
            metadata.start();
            bind("listen", listen.host(), listen.port(), proxy::start);
            bind("admin", initial.admin().host(), initial.admin().port(), admin::start);
            if (health != null) {
                bind("health", h.host(), h.port(), health::start);
            }
            watchCertificates(idpTls);
            watchCertificates(listenerTls);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        log.info("scopegate {} (revision {}) started: upstream {}, store {} at {}", build.version(), build.revision(),
                upstreamUrl, initial.store().type(), initial.store().path());
    }

    /** A listener that cannot bind (port taken, address not local) is a {@link StartException} naming it. */
    private static void bind(String key, String host, int port, Callable<?> start) {
        try {
            start.call();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new StartException(key + " " + host + ":" + port + ": cannot listen: " + StartChecks.oneLine(e), e);
        }
    }

    /** Rewrite and unresolved counters of every configured family exist from the start, at zero. */
    private static void declareScopeMeters(ScopeMetrics scopeMetrics, ScopegateConfig c) {
        List<String> families = new ArrayList<>();
        c.scope().families().forEach(f -> families.add(f.name()));
        families.add(dev.scopegate.oauth.scope.ClientFamilies.OTHER);
        List<String> sources = c.scope().sources().stream().map(s -> s.name().toLowerCase(Locale.ROOT)).toList();
        scopeMetrics.declare(families, sources);
    }

    /**
     * Watches {@code file} and installs the SIGHUP handler; both reload through one
     * {@link ConfigReloader}, which keeps the running config when the file is invalid.
     */
    private void enableReload(Path file, ConfigLoader loader, Duration debounce) throws Exception {
        ConfigReloader r = new ConfigReloader(file, loader, config, ScopegateMain::checkReload, outcome -> {
            if (outcome instanceof ConfigReloader.Outcome.Applied a) {
                reloadMetrics.applied(!a.restartRequired().isEmpty());
            } else if (outcome instanceof ConfigReloader.Outcome.Rejected) {
                reloadMetrics.rejected();
            }
        });
        r.baseline();
        reloader = r;
        watcher = new ConfigWatcher(file, debounce, r::reloadIfChanged).start();
        hangup = ReloadSignal.install(() -> {
            LoggerFactory.getLogger(ScopegateMain.class).info("SIGHUP: reloading {}", file);
            r.reload();
        });
    }

    /** The admin rule of {@link StartChecks}, for a reloaded config: a token cannot be removed. */
    private static void checkReload(ScopegateConfig candidate) throws ConfigException {
        String unsafe = StartChecks.unsafeAdmin(candidate);
        if (unsafe != null) {
            throw new ConfigException(List.of("admin.token: " + unsafe));
        }
    }

    /**
     * Reloads the config file now, as SIGHUP does.
     *
     * @throws IllegalStateException when this gateway was not started from a file
     */
    public ConfigReloader.Outcome reload() {
        ConfigReloader r = reloader;
        if (r == null) {
            throw new IllegalStateException("started without a config file: nothing to reload");
        }
        return r.reload();
    }

    /** Whether SIGHUP reloads this gateway's config (false where the JVM does not allow the handler). */
    public boolean reloadsOnSighup() {
        ReloadSignal h = hangup;
        return h != null && h.installed();
    }

    /** Values rebuilt only when the config snapshot changes, then shared by every request. */
    private static <T> Supplier<T> derived(ConfigHolder holder, Function<ScopegateConfig, T> build) {
        AtomicReference<Object[]> cell = new AtomicReference<>();
        return () -> {
            ScopegateConfig c = holder.current();
            Object[] pair = cell.get();
            if (pair == null || pair[0] != c) {
                pair = new Object[]{c, build.apply(c)};
                cell.set(pair);
            }
            @SuppressWarnings("unchecked")
            T value = (T) pair[1];
            return value;
        };
    }

    /** @param gateway true for the gateway: Redis writes it cannot make wait in a local outbox; CLI tools fail instead */
    static RegistrationStore openStore(ScopegateConfig c, boolean gateway) {
        if (c.store().type() == ScopegateConfig.StoreType.REDIS) {
            RedisRegistrationStore.Settings settings = RedisRegistrationStore.Settings.from(c);
            return new RedisRegistrationStore(gateway ? settings : settings.withoutOutbox(), Clock.systemUTC());
        }
        return new SqliteRegistrationStore(Path.of(c.store().path()));
    }

    /**
     * The TLS context of each upstream origin: {@code upstream.tls} for the IdP's origin (whichever
     * route reaches it), the JDK's trust store and no client certificate for every other.
     */
    private static Function<Origin, SslContext> upstreamTls(Origin idp, /* nullable */ ReloadingSslContext idpTls) {
        SslContext defaults = UpstreamClient.defaultSsl();
        if (idpTls == null) {
            return origin -> defaults;
        }
        return origin -> origin.port() == idp.port() && origin.host().equalsIgnoreCase(idp.host()) ? idpTls.get() : defaults;
    }

    private static void watchCertificates(/* nullable */ ReloadingSslContext tls) throws java.io.IOException {
        if (tls != null) {
            tls.watch(ConfigWatcher.DEFAULT_DEBOUNCE);
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    public int proxyPort() {
        return proxy.port();
    }

    public int adminPort() {
        return admin.port();
    }

    /** The health listener's port ({@code health.port}); 0 when it is off. */
    public int healthPort() {
        return health == null ? 0 : health.port();
    }

    @Override
    public void close() {
        lifecycle.startDraining(); // readiness says 503 from the first moment of shutdown
        ConfigWatcher w = watcher;
        if (w != null) {
            w.close();
        }
        ReloadSignal h = hangup;
        if (h != null) {
            h.close();
        }
        proxy.shutdown(drainTimeout);
        if (health != null) {
            health.close();
        }
        closeQuietly(listenerTls);
        closeQuietly(idpTls);
        admin.close();
        metadata.close();
        upstream.close();
        fetcher.close();
        documentFetcher.close();
        transport.close();
        scheduler.shutdownNow();
        store.close();
        blocking.shutdownNow();
        metrics.close();
    }

    private static void closeQuietly(/* nullable */ ReloadingSslContext tls) {
        if (tls != null) {
            tls.close();
        }
    }

    /** Starts a gateway in this JVM (tests, embedding), without reload: there is no file. */
    public static ScopegateMain start(ScopegateConfig config) throws Exception {
        return new ScopegateMain(config);
    }

    /**
     * Starts a gateway from {@code file}, reloading it on change and on SIGHUP.
     *
     * @param env environment lookup for {@code ${VAR}} ({@code System::getenv}), used again at each reload
     * @throws ConfigException when the file is invalid
     */
    public static ScopegateMain start(Path file, Function<String, String> env) throws Exception {
        return start(file, env, ConfigWatcher.DEFAULT_DEBOUNCE);
    }

    /** {@link #start(Path, Function)} with the watcher's quiet time given (tests). */
    public static ScopegateMain start(Path file, Function<String, String> env, Duration debounce) throws Exception {
        ConfigLoader loader = new ConfigLoader(env);
        ScopegateMain gateway = new ScopegateMain(loader.load(file));
        try {
            gateway.enableReload(file, loader, debounce);
        } catch (Exception e) {
            gateway.close();
            throw e;
        }
        return gateway;
    }

    /** The command line; kept here for launchers that name this class. */
    public static void main(String[] args) {
        Cli.main(args);
    }

    /** Process-wide Netty settings of the shipped gateway; call before Netty allocates anything. */
    static void processDefaults() {
        quietLeakDetection();
        eventLoopBuffers();
    }

    /**
     * Netty's adaptive buffer allocator counts a heap of 512 MiB or less as "low memory" and then
     * gives event loops no magazines of their own: every buffer taken goes through a shared
     * magazine's lock (the top frame of 7.6 % of the event loop's samples in the load test's
     * profile at {@code -Xmx128m}; 1.5–3 % of CPU per request). Buffers are off-heap and the
     * gateway runs one event loop per core, so it keeps per-thread magazines unless
     * {@code -Dio.netty.allocator.lowMemory} says otherwise. Must run before Netty allocates.
     */
    private static void eventLoopBuffers() {
        if (System.getProperty("io.netty.allocator.lowMemory") == null) {
            System.setProperty("io.netty.allocator.lowMemory", "false");
        }
    }

    /**
     * Netty's buffer leak detector samples one buffer in 128 and records a stack trace for it:
     * about 2 % of the CPU of a proxied request. Every test runs it at its most thorough level
     * (paranoid); the shipped gateway turns it off unless {@code -Dio.netty.leakDetection.level}
     * asks for it.
     */
    private static void quietLeakDetection() {
        if (System.getProperty("io.netty.leakDetection.level") == null
                && System.getProperty("io.netty.leakDetectionLevel") == null) {
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
    }

    /** Stops Logback's context: its appenders write what they buffer (the access and audit lines). */
    static void stopLogging() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }

    /**
     * Replaces the text layout of {@code logback.xml} by {@code logback-json.xml} (one JSON object
     * per line on every logger). Chosen once at start: {@code logging.json} needs a restart.
     */
    static void useJsonLogging() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return; // another SLF4J backend: its own config decides
        }
        URL json = ScopegateMain.class.getResource("/logback-json.xml");
        if (json == null) {
            return;
        }
        try {
            context.reset();
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            configurator.doConfigure(json);
        } catch (JoranException e) {
            System.err.println("cannot switch to JSON logs: " + e.getMessage());
        }
    }
}
