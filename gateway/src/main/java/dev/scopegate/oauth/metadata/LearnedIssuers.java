package dev.scopegate.oauth.metadata;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.oauth.HttpFetcher;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The issuers scopegate learned ({@code metadata.issuers.learn}): issuers the IdP hosts under a
 * path prefix (Keycloak's {@code /realms/<name>}) other than the configured one, each with its own
 * {@link MetadataService} (same fetch conventions, augmentation, refresh schedule and
 * stale-on-failure as the configured issuer).
 *
 * <p><b>Learning.</b> {@link #learn} is asked for an issuer path a discovery request named
 * ({@link IssuerPaths#named}). Nothing is fetched for a path that is not
 * {@linkplain IssuerPaths#wellFormed well formed}, that failed within {@code negative-ttl}, while
 * {@code max} issuers are learned, or while {@link #MAX_CONCURRENT_PROBES} other paths are being
 * fetched. Otherwise the path's documents are fetched once (concurrent askers share that fetch)
 * and the issuer is learned when one of them names exactly the {@linkplain #publicOrigin public
 * origin} followed by the path. A path that is not learned (the IdP does not serve it, a document
 * names another issuer, the fetch failed) is remembered as refused for {@code negative-ttl}, in a
 * cache of at most {@link #REFUSED_ENTRIES} paths (beyond that, the least used are forgotten and
 * may be fetched again: memory stays bounded, and so does the IdP's load, by the probe bound).
 * Learned issuers stay until restart.
 *
 * <p><b>Threads.</b> Thread-safe; nothing blocks. Futures complete on the metadata scheduler or
 * on the caller's thread.
 */
public final class LearnedIssuers implements AutoCloseable {

    /** Most refused paths remembered; with the probe bound, what keeps a flood of paths cheap. */
    public static final int REFUSED_ENTRIES = 10_000;
    /** Most paths fetched at the same time; a path asked for beyond it is not learned (this time). */
    public static final int MAX_CONCURRENT_PROBES = 4;

    private static final Logger log = LoggerFactory.getLogger(LearnedIssuers.class);

    /** What one {@link #learn} that did not find the path learned or refused did. */
    public enum Outcome {
        /** Fetched, and its issuer matched: learned. */
        LEARNED,
        /** Fetched: the IdP publishes no document there. */
        NOT_FOUND,
        /** Fetched: a document names another issuer. */
        MISMATCH,
        /** Fetched: error, timeout, non-200, invalid JSON. */
        FAILED,
        /** Not fetched: the path is not well formed. */
        INVALID,
        /** Not fetched: {@code max} issuers are learned. */
        FULL,
        /** Not fetched: {@link #MAX_CONCURRENT_PROBES} fetches are running. */
        BUSY;

        private final String label = name().toLowerCase(Locale.ROOT).replace('_', '-');

        /** The metric label: {@code learned}, {@code not-found} … */
        public String label() {
            return label;
        }
    }

    private final ScopegateConfig.Issuers config;
    private final HttpFetcher fetcher;
    private final URI upstream;
    private final /* nullable */ URI publicBaseUrl;
    private final MetadataService primary;
    private final ScheduledExecutorService scheduler;
    private final Clock clock;
    private final Consumer<Outcome> outcomes;
    private volatile Duration refresh;
    private volatile ScopegateConfig.Augment augment;

    private final Object lock = new Object();
    /** Issuer path to its service; copy on write, under {@link #lock}. */
    private volatile Map<String, MetadataService> learned = Map.of();
    private final Cache<String, Outcome> refused;
    private final ConcurrentHashMap<String, CompletableFuture<MetadataService>> probing = new ConcurrentHashMap<>();
    private final AtomicLong version = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param config {@code metadata.issuers}
     * @param fetcher, upstream, publicBaseUrl, scheduler, clock as for the configured issuer's
     *     {@link MetadataService}
     * @param primary the configured issuer's service (its issuer's origin is the public origin
     *     without {@code public-base-url}; its paths are never learned)
     * @param metadata {@code metadata} (refresh and augmentation of learned issuers)
     * @param ticker times {@code negative-ttl}
     * @param outcomes told each {@link Outcome} (metrics)
     */
    public LearnedIssuers(ScopegateConfig.Issuers config, HttpFetcher fetcher, URI upstream,
                          /* nullable */ URI publicBaseUrl, MetadataService primary, ScopegateConfig.Metadata metadata,
                          ScheduledExecutorService scheduler, Clock clock, Ticker ticker, Consumer<Outcome> outcomes) {
        this.config = Objects.requireNonNull(config, "config");
        this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.publicBaseUrl = publicBaseUrl;
        this.primary = Objects.requireNonNull(primary, "primary");
        this.refresh = metadata.refresh();
        this.augment = metadata.augment();
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.outcomes = Objects.requireNonNull(outcomes, "outcomes");
        this.refused = Caffeine.newBuilder().maximumSize(REFUSED_ENTRIES)
                .expireAfterWrite(config.negativeTtl()).ticker(Objects.requireNonNull(ticker, "ticker"))
                .executor(Runnable::run).build();
    }

    /** The service of a learned issuer path, or null. Never blocks. */
    public /* nullable */ MetadataService learned(String issuerPath) {
        return learned.get(issuerPath);
    }

    /** Every learned issuer path and its service (an immutable snapshot, in the order learned). */
    public Map<String, MetadataService> all() {
        return learned;
    }

    /** How many issuers are learned. */
    public int size() {
        return learned.size();
    }

    /** Paths being fetched now (tests). */
    int probingNow() {
        return probing.size();
    }

    /** Paths remembered as refused now (tests). */
    long refusedSize() {
        refused.cleanUp();
        return refused.estimatedSize();
    }

    /** Changes whenever an issuer is learned or a learned issuer's documents change. */
    public long version() {
        return version.get();
    }

    /**
     * The service of {@code issuerPath} once learned, or null when it is not (see the class
     * comment for when it is fetched). Never fails.
     */
    public CompletableFuture</* nullable */ MetadataService> learn(String issuerPath) {
        MetadataService known = learned.get(issuerPath);
        if (known != null) {
            return CompletableFuture.completedFuture(known);
        }
        if (!IssuerPaths.wellFormed(issuerPath) || issuerPath.equals(primary.issuerPath())) {
            outcomes.accept(Outcome.INVALID);
            return CompletableFuture.completedFuture(null);
        }
        if (refused.getIfPresent(issuerPath) != null) {
            return CompletableFuture.completedFuture(null);
        }
        if (publicBaseUrl == null && !primary.ready()) {
            // The public origin is the configured issuer's: wait for it (bounded by its fetch).
            return primary.current().handle((m, e) -> null).thenCompose(ignored -> probe(issuerPath));
        }
        return probe(issuerPath);
    }

    private CompletableFuture<MetadataService> probe(String issuerPath) {
        CompletableFuture<MetadataService> running = probing.get(issuerPath);
        if (running != null) {
            return running;
        }
        MetadataService known = learned.get(issuerPath);
        if (known != null) {
            return CompletableFuture.completedFuture(known);
        }
        if (learned.size() >= config.max()) {
            outcomes.accept(Outcome.FULL);
            return CompletableFuture.completedFuture(null);
        }
        if (probing.size() >= MAX_CONCURRENT_PROBES || closed) {
            outcomes.accept(Outcome.BUSY);
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<MetadataService> mine = new CompletableFuture<>();
        running = probing.putIfAbsent(issuerPath, mine);
        if (running != null) {
            return running;
        }
        String expected = IssuerPaths.expectedIssuer(publicOrigin(), issuerPath);
        // A change of a learned issuer's document re-derives the route table; a probe's (often
        // refused, e.g. under a flood of made-up paths) does not: keep() counts it when it is kept.
        java.util.concurrent.atomic.AtomicReference<MetadataService> self = new java.util.concurrent.atomic.AtomicReference<>();
        MetadataService service = new MetadataService(fetcher, upstream, publicBaseUrl, issuerPath, refresh,
                scheduler, clock, augment, expected, () -> {
                    MetadataService me = self.get();
                    if (me != null && learned.get(issuerPath) == me) {
                        version.incrementAndGet();
                    }
                });
        self.set(service);
        service.probe().whenComplete((probe, err) -> {
            Outcome outcome = err != null ? Outcome.FAILED : switch (probe) {
                case FOUND -> Outcome.LEARNED;
                case NOT_FOUND -> Outcome.NOT_FOUND;
                case MISMATCH -> Outcome.MISMATCH;
                case FAILED -> Outcome.FAILED;
            };
            boolean kept = outcome == Outcome.LEARNED && keep(issuerPath, service);
            if (kept) {
                service.reconfigure(refresh, augment); // a reload during the probe applies to it too
                service.start(); // refresh from now on (the first round is after refresh: it is cached)
                log.info("learned issuer {} from its metadata", service.cachedOrNull().issuer());
            } else {
                if (outcome == Outcome.LEARNED) {
                    outcome = Outcome.FULL; // closed, or the cap was reached meanwhile
                } else {
                    refused.put(issuerPath, outcome);
                }
                service.close();
                log.debug("issuer path {} not learned: {} (expected issuer {})", issuerPath, outcome.label(), expected);
            }
            probing.remove(issuerPath, mine);
            outcomes.accept(outcome);
            mine.complete(kept ? service : null);
        });
        return mine;
    }

    private boolean keep(String issuerPath, MetadataService service) {
        synchronized (lock) {
            if (closed || learned.size() >= config.max()) {
                return false;
            }
            Map<String, MetadataService> next = new LinkedHashMap<>(learned);
            next.put(issuerPath, service);
            learned = java.util.Collections.unmodifiableMap(next);
            version.incrementAndGet();
            return true;
        }
    }

    /**
     * The origin learned issuers must be named under: {@code public-base-url}'s; without it, that
     * of the configured issuer's {@code issuer} when its metadata is cached; else the upstream's
     * (what the IdP sees as {@code Host} when fetched without forwarding headers).
     */
    String publicOrigin() {
        String origin = IssuerPaths.originOf(publicBaseUrl);
        if (origin == null) {
            ServerMetadata m = primary.cachedOrNull();
            origin = m == null ? null : IssuerPaths.originOf(m.issuer());
        }
        return origin != null ? origin : IssuerPaths.originOf(upstream);
    }

    /** Applies a reloaded {@code metadata.refresh} and {@code metadata.augment} to every learned issuer. */
    public void reconfigure(Duration refresh, ScopegateConfig.Augment augment) {
        this.refresh = Objects.requireNonNull(refresh, "refresh");
        this.augment = Objects.requireNonNull(augment, "augment");
        for (MetadataService s : learned.values()) {
            s.reconfigure(refresh, augment);
        }
    }

    /** Stops every learned issuer's refresh. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
        }
        for (MetadataService s : learned.values()) {
            s.close();
        }
    }
}
