package dev.scopegate;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.admin.AdminServer;
import dev.scopegate.config.ConfigException;
import dev.scopegate.config.ConfigHolder;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ConfigReloader;
import dev.scopegate.config.ConfigWatcher;
import dev.scopegate.config.ReloadSignal;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.fetch.NettyHttpFetcher;
import dev.scopegate.logging.BufferedLineAppender;
import dev.scopegate.logging.Lines;
import dev.scopegate.metrics.BuildInfoMetrics;
import dev.scopegate.metrics.IssuerMetrics;
import dev.scopegate.metrics.LogMetrics;
import dev.scopegate.metrics.MetadataMetrics;
import dev.scopegate.metrics.MetricsRegistry;
import dev.scopegate.metrics.ProxyMetrics;
import dev.scopegate.metrics.ReadinessMetrics;
import dev.scopegate.metrics.ReloadMetrics;
import dev.scopegate.metrics.OutcomeMetrics;
import dev.scopegate.metrics.ScopeMetrics;
import dev.scopegate.metrics.TlsMetrics;
import dev.scopegate.oauth.AuditLog;
import dev.scopegate.oauth.PendingScopes;
import dev.scopegate.oauth.ScopeNormalizer;
import dev.scopegate.oauth.document.AddressGuard;
import dev.scopegate.oauth.document.ClientIdMetadataDocuments;
import dev.scopegate.oauth.document.Resolver;
import dev.scopegate.oauth.document.ResourceMetadataCache;
import dev.scopegate.oauth.metadata.LearnedIssuers;
import dev.scopegate.oauth.metadata.MetadataService;
import dev.scopegate.oauth.scope.ClientFamilies;
import dev.scopegate.oauth.scope.ScopeDemotions;
import dev.scopegate.oauth.scope.ScopeResolver;
import dev.scopegate.proxy.AccessLog;
import dev.scopegate.proxy.Lifecycle;
import dev.scopegate.proxy.ProxyServer;
import dev.scopegate.proxy.ProxySettings;
import dev.scopegate.proxy.Transport;
import dev.scopegate.proxy.route.IssuerOf;
import dev.scopegate.proxy.route.RewriteFeedback;
import dev.scopegate.proxy.route.RouteTable;
import dev.scopegate.proxy.route.RouteKind;
import dev.scopegate.store.MeteredRegistrationStore;
import dev.scopegate.proxy.upstream.OffLoopResolverGroup;
import dev.scopegate.proxy.upstream.Origin;
import dev.scopegate.proxy.upstream.UpstreamClient;
import dev.scopegate.proxy.upstream.UpstreamFailure;
import dev.scopegate.store.RegistrationRepository;
import dev.scopegate.store.RegistrationStore;
import dev.scopegate.store.redis.RedisRegistrationStore;
import dev.scopegate.tls.DefaultClientTls;
import dev.scopegate.tls.ReloadingSslContext;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.ssl.SslContext;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The composition root: builds every part of a gateway by constructor and starts them in order —
 * metrics, executors, store, event loops, fetchers, metadata, then the admin, health and proxy
 * listeners, then the certificate and config watchers. Each part is registered with a
 * {@link Closer} the moment it exists, so a start that fails at any step closes what was already
 * made, in reverse order, and rethrows; {@link #close()} stops the rest the same way (the proxy
 * drains first while the admin listener still answers readiness with 503).
 *
 * <p>Started from a file, it reloads that file when it changes and on SIGHUP
 * ({@link ConfigReloader}). The command line is {@link Cli}; process-wide settings are
 * {@link JvmDefaults} and {@link Logs}. {@code start} and {@code close} may be called from any
 * thread; {@code close} is idempotent.
 */
public final class Gateway implements AutoCloseable {

    static final String DEFAULT_CONFIG = "config/scopegate.yaml";
    private static final Duration CLIENT_IDLE_TIMEOUT = Duration.ofSeconds(75);

    static {
        JvmDefaults.quietCaffeine();
    }

    /** What is built and started, newest last: {@link #close()} and a failed start run it backwards. */
    private final Closer parts = new Closer();
    private final ConfigHolder config;
    private final Lifecycle lifecycle = new Lifecycle();
    private final ReloadMetrics reloadMetrics;
    private final ProxyServer proxy;
    private final AdminServer admin;
    /** The probes-only listener of {@code health.port}; null when that is 0. */
    private final AdminServer health;
    private volatile ConfigReloader reloader;
    private volatile ReloadSignal hangup;

    private Gateway(ScopegateConfig initial) throws Exception {
        StartChecks.refuse(initial); // before anything is built
        this.config = new ConfigHolder(initial);
        BuildInfo build = BuildInfo.current();
        Clock clock = Clock.systemUTC();
        try {
            MetricsRegistry metrics = parts.own("metrics", MetricsRegistry.create());
            PrometheusMeterRegistry registry = metrics.registry();
            reloadMetrics = new ReloadMetrics(registry);
            LogMetrics.bind(registry, LoggerFactory.getILoggerFactory(), BufferedLineAppender::droppedIn);
            BuildInfoMetrics.bind(registry, build.version(), build.revision());

            ExecutorService blocking = Executors.newCachedThreadPool(daemon("scopegate-blocking"));
            parts.push("blocking executor", blocking::shutdownNow);
            RegistrationStore opened = parts.own("store", Stores.open(initial, true));
            ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(daemon("scopegate-scheduler"));
            parts.push("scheduler", scheduler::shutdownNow);
            MeteredRegistrationStore store = Stores.metered(opened, registry, scheduler);
            RegistrationRepository registrations = Stores.registrations(initial, store,
                    opened instanceof RedisRegistrationStore r ? r : null, registry, clock);
            Transport transport = parts.own("event loops", Transport.create(0, true));

            // upstream.tls applies to every connection to the IdP's origin: proxied requests and metadata.
            URI upstreamUrl = initial.upstream().url();
            TlsMetrics tlsMetrics = new TlsMetrics(registry);
            ReloadingSslContext idpTls = initial.upstream().tls().configured()
                    ? parts.own("upstream.tls", ReloadingSslContext.client(initial.upstream().tls(), tlsMetrics)) : null;
            // The JDK-default client TLS context (trust store load) is built after the listener opens.
            DefaultClientTls defaultTls = new DefaultClientTls();
            NettyHttpFetcher.Builder fetcherBuilder = NettyHttpFetcher.builder(transport.workers())
                    .channelType(transport.channelType()).resolverExecutor(blocking).sslContext(defaultTls);
            if (idpTls != null) {
                fetcherBuilder.sslContext(upstreamUrl, idpTls);
            }
            NettyHttpFetcher fetcher = parts.own("metadata fetcher", fetcherBuilder.build());
            MetadataService metadata = parts.own("metadata", new MetadataService(fetcher, upstreamUrl,
                    initial.publicBaseUrl(), MetadataService.issuerPathOf(initial.publicBaseUrl()),
                    initial.metadata().refresh(), scheduler, clock, initial.metadata().augment()));
            MetadataMetrics.bind(registry, metadata, clock);
            LearnedIssuers issuers = learnedIssuers(initial, fetcher, metadata, scheduler, clock, registry);
            ReadinessMetrics.bind(registry, () -> lifecycle.listening() && !lifecycle.draining() && metadata.ready());
            // The fetch allow-list follows routes on a reload (resources itself is restart-only).
            ResourceMetadataCache resources = new ResourceMetadataCache(initial.resources(),
                    derived(config, ResourceMetadataCache::fetchableOrigins), fetcher, System::nanoTime);
            // Client ID metadata documents come from anywhere: the guard checks the address actually
            // connected to, so a DNS answer that changes between check and connect gains nothing.
            boolean allowPrivate = initial.scope().document().allowPrivate();
            NettyHttpFetcher documentFetcher = parts.own("document fetcher", NettyHttpFetcher.builder(transport.workers())
                    .channelType(transport.channelType()).resolverExecutor(blocking).sslContext(defaultTls)
                    .addressFilter(a -> AddressGuard.permitted(a, allowPrivate)).build());
            ClientIdMetadataDocuments documents = new ClientIdMetadataDocuments(initial.scope().document(),
                    documentFetcher, Resolver.system(), blocking, System::nanoTime);

            // Demotions outlive each config's resolver: a reload keeps what the IdP rejected.
            ScopeDemotions demotions = new ScopeDemotions(Ticker.systemTicker(), clock);
            Supplier<ScopeResolver> resolver = derived(config, c -> new ScopeResolver(c.scope(), demotions));
            ScopeNormalizer normalizer = new ScopeNormalizer(resolver, registrations, metadata::cachedOrNull,
                    resources, documents);
            ScopeMetrics scopeMetrics = new ScopeMetrics(registry);
            declareScopeMeters(scopeMetrics, initial);
            OutcomeMetrics outcomeMetrics = new OutcomeMetrics(registry);
            declareOutcomeMeters(outcomeMetrics, initial);
            RouteTable router = new RouteTable(config::current, metadata, issuers, resources, normalizer, registrations,
                    scopeMetrics, new AuditLog(initial.logging().json(), Lines::info), clock,
                    new PendingScopes(100_000, Duration.ofMinutes(10), Ticker.systemTicker()),
                    new RewriteFeedback(outcomeMetrics, demotions, IssuerOf.primary(metadata)));

            ProxyMetrics proxyMetrics = new ProxyMetrics(registry,
                    Arrays.stream(RouteKind.values()).map(RouteKind::label).toArray(String[]::new));
            proxyMetrics.declareUpstreamErrors(
                    Arrays.stream(UpstreamFailure.Kind.values()).map(UpstreamFailure.Kind::label).toList());
            UpstreamClient upstream = parts.own("upstream connections", new UpstreamClient(transport.channelType(),
                    new OffLoopResolverGroup(blocking),
                    new UpstreamClient.Settings(initial.upstream().connectTimeout(), initial.upstream().maxConnections(),
                            transport.threads(), initial.upstream().idleTimeout(), 65536),
                    upstreamTls(Origin.of(upstreamUrl), idpTls, defaultTls)));
            ScopegateConfig.Listen listen = initial.listen();
            ReloadingSslContext listenerTls = listen.tls().enabled()
                    ? parts.own("listen.tls", ReloadingSslContext.server(listen.tls(), tlsMetrics)) : null;
            proxy = new ProxyServer(transport, new ProxyServer.Listener(listen.host(), listen.port(), listenerTls,
                    initial.limits().maxInitialLineBytes(), initial.limits().maxHeaderBytes(), CLIENT_IDLE_TIMEOUT),
                    derived(config, ProxySettings::from), upstream, router, proxyMetrics,
                    new AccessLog(initial.logging().json(), Lines::info), lifecycle);
            admin = new AdminServer(transport, initial.admin().host(), initial.admin().port(), config::current, registry,
                    new AdminServer.Readiness(lifecycle::listening, lifecycle::draining, metadata::ready, store::ping),
                    registrations, normalizer);
            ScopegateConfig.Health h = initial.health();
            health = h.listenerEnabled() ? admin.probesOnly(h.host(), h.port()) : null;

            // What a reload changes beyond the per-request snapshot reads (derived suppliers above).
            config.addListener(c -> metadata.reconfigure(c.metadata().refresh(), c.metadata().augment()));
            if (issuers != null) {
                config.addListener(c -> issuers.reconfigure(c.metadata().refresh(), c.metadata().augment()));
            }
            config.addListener(c -> declareScopeMeters(scopeMetrics, c));
            config.addListener(c -> declareOutcomeMeters(outcomeMetrics, c));

            // Start: probes answer (readiness 503) before traffic is taken, and go after it has drained.
            boolean httpsIdp = "https".equalsIgnoreCase(upstreamUrl.getScheme()) && idpTls == null;
            if (httpsIdp) {
                defaultTls.get(); // the first metadata fetch needs it at once: not on an event loop
            }
            metadata.start();
            bind("admin", initial.admin().host(), initial.admin().port(), admin::start);
            parts.push("admin listener", admin::close);
            if (health != null) {
                bind("health", h.host(), h.port(), health::start);
                parts.push("health listener", health::close);
            }
            bind("listen", listen.host(), listen.port(), proxy::start);
            if (!httpsIdp) {
                defaultTls.prewarm(blocking);
            }
            Duration drain = listen.drainTimeout();
            parts.push("proxy listener", () -> proxy.shutdown(drain));
            watchCertificates(idpTls);
            watchCertificates(listenerTls);
            LoggerFactory.getLogger(Gateway.class).info("scopegate {} (revision {}) started: upstream {}, store {} at {}",
                    build.version(), build.revision(), upstreamUrl, initial.store().type(), initial.store().path());
        } catch (Throwable e) {
            lifecycle.startDraining();
            parts.close(e);
            throw e;
        }
    }

    /** {@code metadata.issuers} with its meters, or null when learning is off (nothing registered). */
    private /* nullable */ LearnedIssuers learnedIssuers(ScopegateConfig c, NettyHttpFetcher fetcher, MetadataService primary,
                                                         ScheduledExecutorService scheduler, Clock clock,
                                                         PrometheusMeterRegistry registry) {
        if (!c.metadata().issuers().learn()) {
            return null;
        }
        AtomicReference<IssuerMetrics> meters = new AtomicReference<>(); // outcomes come with requests, later
        LearnedIssuers issuers = parts.own("learned issuers", new LearnedIssuers(c.metadata().issuers(), fetcher,
                c.upstream().url(), c.publicBaseUrl(), primary, c.metadata(), scheduler, clock, Ticker.systemTicker(),
                o -> meters.get().discovery(o.label())));
        meters.set(new IssuerMetrics(registry,
                Arrays.stream(LearnedIssuers.Outcome.values()).map(LearnedIssuers.Outcome::label).toList(), issuers::size));
        return issuers;
    }

    /** Starts a gateway in this JVM (tests, embedding), without reload: there is no file. */
    public static Gateway start(ScopegateConfig config) throws Exception {
        return new Gateway(config);
    }

    /**
     * Starts a gateway from {@code file}, reloading it on change and on SIGHUP.
     *
     * @param env environment lookup for {@code ${VAR}} ({@code System::getenv}), used again at each reload
     * @throws ConfigException when the file is invalid
     */
    public static Gateway start(Path file, Function<String, String> env) throws Exception {
        return start(file, env, ConfigWatcher.DEFAULT_DEBOUNCE);
    }

    /** {@link #start(Path, Function)} with the watcher's quiet time given (tests). */
    public static Gateway start(Path file, Function<String, String> env, Duration debounce) throws Exception {
        ConfigLoader loader = new ConfigLoader(env);
        Gateway gateway = new Gateway(loader.load(file));
        try {
            gateway.enableReload(file, loader, debounce);
        } catch (Throwable e) {
            gateway.parts.close(e);
            throw e;
        }
        return gateway;
    }

    /**
     * Drains the proxy, then stops every part in the reverse order of its start. Blocks (at most
     * {@code listen.drain-timeout} plus the parts' own stop times); idempotent. A part that fails to
     * stop is logged and the others still stop.
     */
    @Override
    public void close() {
        lifecycle.startDraining(); // readiness says 503 from the first moment of shutdown
        parts.close(null);
    }

    /**
     * Watches {@code file} and installs the SIGHUP handler; both reload through one
     * {@link ConfigReloader}, which keeps the running config when the file is invalid.
     */
    private void enableReload(Path file, ConfigLoader loader, Duration debounce) throws Exception {
        ConfigReloader r = new ConfigReloader(file, loader, config, Gateway::checkReload, outcome -> {
            if (outcome instanceof ConfigReloader.Outcome.Applied a) {
                reloadMetrics.applied(!a.restartRequired().isEmpty());
            } else if (outcome instanceof ConfigReloader.Outcome.Rejected) {
                reloadMetrics.rejected();
            }
        });
        r.baseline();
        reloader = r;
        parts.own("config watcher", new ConfigWatcher(file, debounce, r::reloadIfChanged)).start();
        hangup = parts.own("SIGHUP handler", ReloadSignal.install(() -> {
            LoggerFactory.getLogger(Gateway.class).info("SIGHUP: reloading {}", file);
            r.reload();
        }));
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
        families.add(ClientFamilies.OTHER);
        List<String> sources = c.scope().sources().stream().map(s -> s.name().toLowerCase(Locale.ROOT)).toList();
        scopeMetrics.declare(families, sources);
    }

    private static void declareOutcomeMeters(OutcomeMetrics outcomes, ScopegateConfig c) {
        List<String> families = new ArrayList<>();
        c.scope().families().forEach(f -> families.add(f.name()));
        families.add(ClientFamilies.OTHER);
        for (String family : families) {
            for (ScopegateConfig.Source s : c.scope().sources()) {
                outcomes.declare(s.name().toLowerCase(Locale.ROOT), family);
            }
        }
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

    /**
     * The TLS context of each upstream origin: {@code upstream.tls} for the IdP's origin (whichever
     * route reaches it), the JDK's trust store and no client certificate for every other.
     */
    private static Function<Origin, SslContext> upstreamTls(Origin idp, /* nullable */ ReloadingSslContext idpTls,
                                                            DefaultClientTls defaults) {
        if (idpTls == null) {
            return origin -> defaults.get();
        }
        return origin -> origin.port() == idp.port() && origin.host().equalsIgnoreCase(idp.host()) ? idpTls.get()
                : defaults.get();
    }

    private static void watchCertificates(/* nullable */ ReloadingSslContext tls) throws java.io.IOException {
        if (tls != null) {
            tls.watch(ConfigWatcher.DEFAULT_DEBOUNCE);
        }
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
