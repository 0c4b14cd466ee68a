// Over 400 lines: one fetch / cache / refresh / serve cycle of the two well-known documents (DESIGN §5), whose rules are read together.
package dev.scopegate.oauth.metadata;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.MetadataMetrics;
import dev.scopegate.oauth.HttpFetcher;
import dev.scopegate.oauth.metadata.WellKnown.Kind;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches, caches, refreshes and serves the IdP's metadata (DESIGN §5).
 *
 * <p><b>What is fetched.</b> Each round GETs both documents from the upstream's origin: the
 * OAuth one at {@code /.well-known/oauth-authorization-server{issuerPath}} (RFC 8414 §3.1) and the
 * OpenID one at {@code /.well-known/openid-configuration} (with an issuer path: first
 * {@code {issuerPath}/.well-known/openid-configuration}, then
 * {@code /.well-known/openid-configuration{issuerPath}}). The upstream URL's own path is ignored:
 * the proxy forwards request paths unchanged, so the IdP's well-known paths are the public ones.
 * When {@code public-base-url} is set, every fetch presents itself as a client of it would
 * ({@code Host}, {@code X-Forwarded-Host}, {@code X-Forwarded-Proto}, {@code X-Forwarded-Port}),
 * so that the IdP names its public URLs, not its internal address.
 *
 * <p><b>Caching.</b> Each document is cached on its own. A round succeeds when at least one
 * document was fetched and parsed; a document that fails (error, non-200, bad JSON, even a 404
 * after it was once found) keeps its last good copy. The {@linkplain #cachedOrNull() primary}
 * document, whose endpoints scopegate learns, is the OAuth one, else the OpenID one.
 *
 * <p><b>Schedule</b> (after {@link #start()}): the first round at once; after a success the next
 * after {@code refresh}; after a failure a retry after 1 s, 2 s, 4 s … capped at 5 s while nothing
 * is cached, at {@code refresh} once something is. Rounds never overlap: a round asked for while
 * one is running joins it (single flight), whether asked by the schedule, {@link #current()} or
 * {@link #documentForAsync}.
 *
 * <p><b>Threads.</b> Thread-safe. Nothing here blocks. Fetch results are processed on the
 * injected scheduler, and futures returned by this class complete there (or on the caller's
 * thread when already complete): event-loop callers hop back to their own executor.
 */
public final class MetadataService implements AutoCloseable, MetadataMetrics.Source {

    /** Largest metadata document accepted. */
    public static final int MAX_DOCUMENT_BYTES = 512 * 1024;
    /** Bound on one fetch, connect included. */
    public static final Duration FETCH_TIMEOUT = Duration.ofSeconds(10);
    static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    static final Duration EMPTY_RETRY_CAP = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(MetadataService.class);

    private final HttpFetcher fetcher;
    private final URI upstream;
    private final /* nullable */ URI publicBaseUrl;
    private final String issuerPath;
    private final ScheduledExecutorService scheduler;
    private final Clock clock;
    private final Map<String, String> requestHeaders;
    private final Map<Kind, List<URI>> locations;
    /** A learned issuer's exact {@code issuer} (documents naming another are refused); null: any. */
    private final /* nullable */ String expectedIssuer;
    /** Told after each change of what is served (a learned issuer's endpoints may have moved). */
    private final Runnable onChange;

    private final Object stateLock = new Object();
    private volatile State state;
    private volatile Augmenter augmenter;
    private volatile Duration refresh;

    private final AtomicReference<CompletableFuture<Round>> inFlight = new AtomicReference<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicInteger failureStreak = new AtomicInteger();
    private final AtomicLong refreshes = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile Instant lastSuccess;
    private volatile ScheduledFuture<?> nextRound;
    private volatile boolean closed;

    /**
     * @param fetcher does the GETs
     * @param upstream the IdP's base URL ({@code upstream.url}); only its origin is used
     * @param publicBaseUrl {@code public-base-url}, or null: then no forwarding headers are sent
     *     and {@code rewrite-origin} has nothing to rewrite to
     * @param issuerPath the issuer's path inserted into well-known URLs (null or {@code ""}: none);
     *     usually {@link #issuerPathOf(URI) issuerPathOf(publicBaseUrl)}
     * @param refresh {@code metadata.refresh}, positive
     * @param scheduler runs rounds, retries and result processing; not shut down by this class
     * @param clock stamps {@link #lastSuccess()}
     * @param augment {@code metadata.augment}
     */
    public MetadataService(HttpFetcher fetcher, URI upstream, /* nullable */ URI publicBaseUrl,
                           /* nullable */ String issuerPath, Duration refresh,
                           ScheduledExecutorService scheduler, Clock clock, ScopegateConfig.Augment augment) {
        this(fetcher, upstream, publicBaseUrl, issuerPath, refresh, scheduler, clock, augment, null, () -> { });
    }

    /**
     * A learned issuer's service ({@link LearnedIssuers}): like the public constructor, but a
     * document whose {@code issuer} is not exactly {@code expectedIssuer} is refused (counted as
     * a failed fetch: the last good copy stays), and {@code onChange} runs after each change of
     * what is served.
     */
    MetadataService(HttpFetcher fetcher, URI upstream, /* nullable */ URI publicBaseUrl,
                    /* nullable */ String issuerPath, Duration refresh,
                    ScheduledExecutorService scheduler, Clock clock, ScopegateConfig.Augment augment,
                    /* nullable */ String expectedIssuer, Runnable onChange) {
        this.expectedIssuer = expectedIssuer;
        this.onChange = Objects.requireNonNull(onChange, "onChange");
        this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.publicBaseUrl = publicBaseUrl;
        this.issuerPath = WellKnown.normalizeIssuerPath(issuerPath);
        this.refresh = positive(refresh);
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.augmenter = new Augmenter(Objects.requireNonNull(augment, "augment"), upstream, publicBaseUrl);
        if (upstream.getScheme() == null || upstream.getRawAuthority() == null) {
            throw new IllegalArgumentException("upstream must be an absolute http(s) URL: " + upstream);
        }
        String origin = upstream.getScheme() + "://" + upstream.getRawAuthority();
        Map<Kind, List<URI>> locations = new LinkedHashMap<>();
        for (Kind kind : Kind.values()) {
            List<URI> uris = new ArrayList<>();
            for (String path : WellKnown.fetchPaths(kind, this.issuerPath)) {
                uris.add(URI.create(origin + path));
            }
            locations.put(kind, List.copyOf(uris));
        }
        this.locations = Map.copyOf(locations);
        this.requestHeaders = forwardingHeaders(publicBaseUrl);
        this.state = new State(null, null, false, false, WellKnown.servedPaths(List.of(this.issuerPath)));
    }

    /**
     * The issuer path to use when none is configured: the path of {@code public-base-url}
     * ({@code ""} when it has none or is null).
     */
    public static String issuerPathOf(/* nullable */ URI publicBaseUrl) {
        return publicBaseUrl == null ? "" : WellKnown.normalizeIssuerPath(publicBaseUrl.getRawPath());
    }

    /**
     * Starts the first round now (in the background) and the schedule after it; when a document is
     * already cached (a learned issuer's first fetch), the first round comes after {@code refresh}.
     * Idempotent; never throws for a down IdP.
     */
    public void start() {
        if (started.compareAndSet(false, true)) {
            scheduleRound(ready() ? refresh : Duration.ZERO);
        }
    }

    /** Stops the schedule. Rounds in flight finish; the cache stays readable. Idempotent. */
    @Override
    public void close() {
        closed = true;
        ScheduledFuture<?> next = nextRound;
        if (next != null) {
            next.cancel(false);
        }
    }

    /**
     * Applies a reloaded {@code metadata} config: the new {@code refresh} takes effect from the
     * next scheduled round, the new augmentation at once (served bodies are recomputed).
     */
    public void reconfigure(Duration refresh, ScopegateConfig.Augment augment) {
        this.refresh = positive(refresh);
        Augmenter a = new Augmenter(Objects.requireNonNull(augment, "augment"), upstream, publicBaseUrl);
        synchronized (stateLock) {
            this.augmenter = a;
            State s = state;
            state = new State(reaugment(s.oauth, a), reaugment(s.oidc, a), s.oauthAbsent, s.oidcAbsent, s.paths);
        }
        onChange.run();
    }

    /** The primary document, or null when nothing is cached. Never blocks; for the hot path. */
    public /* nullable */ ServerMetadata cachedOrNull() {
        return state.primary();
    }

    /** True once a document has been cached (it stays cached). */
    @Override
    public boolean ready() {
        return state.primary() != null;
    }

    /**
     * The primary document: at once when cached; otherwise after a round (joined if one is
     * running, started if not), or exceptionally with {@link MetadataUnavailableException} when
     * that round got nothing.
     */
    public CompletableFuture<ServerMetadata> current() {
        ServerMetadata cached = cachedOrNull();
        if (cached != null) {
            return CompletableFuture.completedFuture(cached);
        }
        return roundNow().thenApply(round -> {
            ServerMetadata md = cachedOrNull();
            if (md == null) {
                throw new MetadataUnavailableException("IdP metadata unavailable: " + round.summary());
            }
            return md;
        });
    }

    /** True when {@code requestPath} is one of the well-known paths this service answers. */
    public boolean servesPath(String requestPath) {
        return state.paths.containsKey(requestPath);
    }

    /**
     * The answer to a client asking for {@code requestPath}, from the cache only (never blocks):
     * empty when it is not a metadata path this service answers; else 200 with the document,
     * 404 when the IdP does not publish that document, or 503 when it is not cached (yet).
     */
    public Optional<Served> documentFor(String requestPath) {
        State s = state;
        Kind kind = s.paths.get(requestPath);
        if (kind == null) {
            return Optional.empty();
        }
        Entry entry = kind == Kind.OAUTH ? s.oauth : s.oidc;
        if (entry != null) {
            return Optional.of(new Served(200, entry.contentType, entry.body));
        }
        boolean absent = kind == Kind.OAUTH ? s.oauthAbsent : s.oidcAbsent;
        return Optional.of(absent ? Served.NOT_FOUND : Served.UNAVAILABLE);
    }

    /**
     * Like {@link #documentFor}, but when nothing at all is cached, first runs (or joins) a round,
     * so that a client arriving before the first successful fetch gets the document instead of
     * a 503 whenever the IdP answers.
     */
    public CompletableFuture<Optional<Served>> documentForAsync(String requestPath) {
        if (!servesPath(requestPath) || ready()) {
            return CompletableFuture.completedFuture(documentFor(requestPath));
        }
        return roundNow().handle((round, err) -> documentFor(requestPath));
    }

    /** What a first round found, for {@link LearnedIssuers}. */
    enum Probe { FOUND, NOT_FOUND, MISMATCH, FAILED }

    /**
     * Runs (or joins) a round and says what it found: {@code FOUND} when a document is cached
     * after it, else {@code MISMATCH} when a document named another issuer, {@code NOT_FOUND}
     * when the IdP publishes neither document, {@code FAILED} otherwise. Never fails.
     */
    CompletableFuture<Probe> probe() {
        return roundNow().handle((round, err) -> {
            if (ready()) {
                return Probe.FOUND;
            }
            if (err != null) {
                return Probe.FAILED;
            }
            return round.mismatch() ? Probe.MISMATCH : round.notFound() ? Probe.NOT_FOUND : Probe.FAILED;
        });
    }

    /** The issuer path this service fetches for ({@code ""}: none). */
    String issuerPath() {
        return issuerPath;
    }

    /** Successful rounds so far. */
    @Override
    public long refreshes() {
        return refreshes.get();
    }

    /** Failed rounds so far (no document fetched). */
    @Override
    public long failures() {
        return failures.get();
    }

    /** When the last successful round finished, or null before the first. */
    @Override
    public /* nullable */ Instant lastSuccess() {
        return lastSuccess;
    }

    /** The extra headers each fetch sends (empty without {@code public-base-url}). */
    Map<String, String> requestHeaders() {
        return requestHeaders;
    }

    // ---- rounds ---------------------------------------------------------------------------

    /** The running round, or a new one: the single flight shared by every caller. */
    private CompletableFuture<Round> roundNow() {
        while (true) {
            CompletableFuture<Round> running = inFlight.get();
            if (running != null) {
                return running;
            }
            CompletableFuture<Round> mine = new CompletableFuture<>();
            if (inFlight.compareAndSet(null, mine)) {
                CompletableFuture<Round> work;
                try {
                    work = runRound();
                } catch (RuntimeException e) {
                    work = CompletableFuture.failedFuture(e);
                }
                work.whenComplete((round, err) -> {
                    // Clear first: whoever reacts to this round and wants another must get a new one.
                    inFlight.compareAndSet(mine, null);
                    if (err != null) {
                        mine.completeExceptionally(err);
                    } else {
                        mine.complete(round);
                    }
                });
                return mine;
            }
        }
    }

    private CompletableFuture<Round> runRound() {
        CompletableFuture<Outcome> oauth = fetch(locations.get(Kind.OAUTH), 0);
        CompletableFuture<Outcome> oidc = fetch(locations.get(Kind.OIDC), 0);
        return oauth.thenCombineAsync(oidc, this::merge, scheduler);
    }

    /** Fetches {@code uris[index]}, moving on to the next location on a 404/410. Never fails. */
    private CompletableFuture<Outcome> fetch(List<URI> uris, int index) {
        URI uri = uris.get(index);
        CompletableFuture<HttpFetcher.Response> response;
        try {
            response = fetcher.get(uri, requestHeaders, MAX_DOCUMENT_BYTES, FETCH_TIMEOUT);
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        return response
                .handleAsync((r, err) -> classify(uri, r, err), scheduler)
                .thenCompose(outcome -> outcome instanceof NotFound && index + 1 < uris.size()
                        ? fetch(uris, index + 1)
                        : CompletableFuture.completedFuture(outcome))
                .exceptionally(err -> new Failed(uri + ": " + describe(err)));
    }

    private static Outcome classify(URI uri, HttpFetcher.Response r, Throwable err) {
        if (err != null) {
            return new Failed(uri + ": " + describe(err));
        }
        if (r.status() == 404 || r.status() == 410) {
            return new NotFound(uri + ": HTTP " + r.status());
        }
        if (r.status() != 200) {
            return new Failed(uri + ": HTTP " + r.status());
        }
        try {
            return new Found(ServerMetadata.parse(r.body(), r.header("content-type")), uri);
        } catch (InvalidMetadataException e) {
            return new Failed(uri + ": " + e.getMessage());
        }
    }

    /** Runs on the scheduler, one round at a time (single flight). */
    private Round merge(Outcome oauthFetched, Outcome oidcFetched) {
        Outcome oauthOutcome = checkIssuer(oauthFetched);
        Outcome oidcOutcome = checkIssuer(oidcFetched);
        boolean success = oauthOutcome instanceof Found || oidcOutcome instanceof Found;
        State before;
        State after;
        synchronized (stateLock) {
            before = state;
            Augmenter a = augmenter;
            Entry oauth = oauthOutcome instanceof Found f ? entry(f.metadata, a) : before.oauth;
            Entry oidc = oidcOutcome instanceof Found f ? entry(f.metadata, a) : before.oidc;
            Set<String> issuerPaths = new LinkedHashSet<>();
            issuerPaths.add(issuerPath);
            for (Entry e : new Entry[] {oauth, oidc}) {
                if (e != null) {
                    issuerPaths.add(WellKnown.issuerPathOf(e.metadata.issuer()));
                }
            }
            after = new State(oauth, oidc,
                    oauth == null && oauthOutcome instanceof NotFound,
                    oidc == null && oidcOutcome instanceof NotFound,
                    WellKnown.servedPaths(issuerPaths));
            state = after;
        }
        String summary = "oauth-authorization-server: " + oauthOutcome.describe()
                + "; openid-configuration: " + oidcOutcome.describe();
        if (success) {
            refreshes.incrementAndGet();
            lastSuccess = clock.instant();
            if (before.primary() == null || failureStreak.get() > 0) {
                log.info("IdP metadata fetched (issuer {}): {}", after.primary().issuer(), summary);
            } else {
                log.debug("IdP metadata refreshed: {}", summary);
            }
        } else {
            failures.incrementAndGet();
            String what = after.primary() == null ? "nothing cached yet" : "serving the last good copy";
            // A path probed for a learned issuer that never answered is the directory's to report
            // (counted there, not logged per path: random paths must not flood the log).
            boolean probeOnly = expectedIssuer != null && after.primary() == null;
            if (failureStreak.get() == 0 && !probeOnly) {
                log.warn("IdP metadata fetch failed ({}): {}", what, summary);
            } else {
                log.debug("IdP metadata fetch failed again ({}): {}", what, summary);
            }
        }
        onChange.run();
        return new Round(success, summary, oauthOutcome instanceof Mismatch || oidcOutcome instanceof Mismatch,
                oauthOutcome instanceof NotFound && oidcOutcome instanceof NotFound);
    }

    /** A found document naming another issuer than the expected one becomes a {@link Mismatch}. */
    private Outcome checkIssuer(Outcome o) {
        if (expectedIssuer != null && o instanceof Found f && !expectedIssuer.equals(f.metadata.issuer())) {
            return new Mismatch(f.from + ": issuer " + f.metadata.issuer() + ", expected " + expectedIssuer);
        }
        return o;
    }

    // ---- schedule -------------------------------------------------------------------------

    private void scheduleRound(Duration delay) {
        if (closed) {
            return;
        }
        try {
            nextRound = scheduler.schedule(this::scheduledRound, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("metadata scheduler rejected the next round; refresh stops", e);
        }
    }

    private void scheduledRound() {
        if (closed) {
            return;
        }
        roundNow().whenComplete((round, err) -> scheduleRound(nextDelay(err == null && round.success())));
    }

    /** After a round: the refresh period, or the next step of the failure backoff. */
    Duration nextDelay(boolean success) {
        if (success) {
            failureStreak.set(0);
            return refresh;
        }
        int streak = failureStreak.incrementAndGet();
        Duration backoff = FIRST_RETRY.multipliedBy(1L << Math.min(streak - 1, 20));
        Duration cap = ready() ? refresh : EMPTY_RETRY_CAP;
        return backoff.compareTo(cap) < 0 ? backoff : cap;
    }

    // ---- helpers --------------------------------------------------------------------------

    private static Map<String, String> forwardingHeaders(/* nullable */ URI publicBaseUrl) {
        if (publicBaseUrl == null) {
            return Map.of();
        }
        Augmenter.Origin origin = Augmenter.Origin.of(publicBaseUrl);
        if (origin.scheme().isEmpty() || origin.host().isEmpty()) {
            throw new IllegalArgumentException("public-base-url must be an absolute http(s) URL: " + publicBaseUrl);
        }
        // Exactly what a browser of public-base-url would send as Host: no default port.
        String authority = publicBaseUrl.getRawAuthority();
        authority = authority.substring(authority.lastIndexOf('@') + 1);
        String defaultPortSuffix = ":" + (origin.scheme().equals("https") ? 443 : 80);
        if (authority.endsWith(defaultPortSuffix)) {
            authority = authority.substring(0, authority.length() - defaultPortSuffix.length());
        }
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Host", authority);
        h.put("X-Forwarded-Host", authority);
        h.put("X-Forwarded-Proto", origin.scheme().toLowerCase(Locale.ROOT));
        h.put("X-Forwarded-Port", Integer.toString(origin.port()));
        return Map.copyOf(h);
    }

    private static Entry entry(ServerMetadata md, Augmenter a) {
        Augmenter.Body body = a.bodyFor(md);
        return new Entry(md, body.bytes(), body.contentType());
    }

    private static Entry reaugment(/* nullable */ Entry e, Augmenter a) {
        return e == null ? null : entry(e.metadata, a);
    }

    private static Duration positive(Duration d) {
        Objects.requireNonNull(d, "refresh");
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("refresh must be positive: " + d);
        }
        return d;
    }

    private static String describe(Throwable err) {
        Throwable t = err;
        while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof TimeoutException) {
            return "timed out";
        }
        String msg = t.getMessage();
        return msg == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + msg;
    }

    /**
     * A metadata answer for a client: status, content type and body (a fresh copy on each
     * {@link #body()} call). Immutable.
     */
    public record Served(int status, String contentType, byte[] body) {

        static final Served NOT_FOUND = json(404,
                "{\"error\":\"not_found\",\"error_description\":\"the authorization server does not publish this document\"}");
        static final Served UNAVAILABLE = json(503,
                "{\"error\":\"temporarily_unavailable\",\"error_description\":\"authorization server metadata is not available yet\"}");

        public Served {
            Objects.requireNonNull(contentType, "contentType");
            body = body.clone();
        }

        @Override
        public byte[] body() {
            return body.clone();
        }

        private static Served json(int status, String body) {
            return new Served(status, ServerMetadata.DEFAULT_CONTENT_TYPE, body.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** One cached document and the bytes served for it under the current augmentation. */
    private record Entry(ServerMetadata metadata, byte[] body, String contentType) {}

    /** Everything served, swapped atomically. */
    private record State(/* nullable */ Entry oauth, /* nullable */ Entry oidc,
                         boolean oauthAbsent, boolean oidcAbsent, Map<String, Kind> paths) {
        ServerMetadata primary() {
            return oauth != null ? oauth.metadata : oidc != null ? oidc.metadata : null;
        }
    }

    private record Round(boolean success, String summary, boolean mismatch, boolean notFound) {}

    private sealed interface Outcome permits Found, NotFound, Failed, Mismatch {
        String describe();
    }

    private record Found(ServerMetadata metadata, URI from) implements Outcome {
        public String describe() {
            return "ok from " + from;
        }
    }

    private record NotFound(String detail) implements Outcome {
        public String describe() {
            return "not found (" + detail + ")";
        }
    }

    private record Failed(String detail) implements Outcome {
        public String describe() {
            return "failed (" + detail + ")";
        }
    }

    private record Mismatch(String detail) implements Outcome {
        public String describe() {
            return "refused (" + detail + ")";
        }
    }
}
