package dev.scopegate.metrics;

/**
 * Every meter name of scopegate, in Micrometer's dotted form. The Prometheus registry turns
 * {@code scopegate.requests} into {@code scopegate_requests_total} (counters get {@code _total},
 * timers {@code _seconds_*}, gauges keep their name plus unit). Tags never carry a client_id or a
 * raw path: only values from small closed sets. The Grafana dashboard and the alert rules in
 * {@code docker/} use these names; a test scrapes a running gateway and checks that every name
 * they mention exists. Constants only.
 */
public final class MeterNames {

    /** Counter; tags {@code route}, {@code method}, {@code status} (1xx … 5xx, aborted). */
    public static final String REQUESTS = "scopegate.requests";
    /**
     * Timer with buckets from 1 ms to 10 s, tag {@code route} (the {@code route} values of
     * {@link #REQUESTS}): request sent upstream to first response byte.
     */
    public static final String UPSTREAM_LATENCY = "scopegate.upstream.latency";
    /**
     * Counter; tag {@code kind}: the upstream failure kinds, lower-case (connect_error,
     * connect_timeout, response_timeout, reset, bad_response, pool_exhausted), each at 0 from the start.
     */
    public static final String UPSTREAM_ERRORS = "scopegate.upstream.errors";
    /** Counter; tag {@code reason}: requests answered by scopegate itself (400, 413, 431 …). */
    public static final String REFUSALS = "scopegate.refusals";
    /** Counter; tag {@code cap} (form, capture). */
    public static final String BODIES_OVER_CAP = "scopegate.bodies.over.cap";
    /** Gauge: open client connections. */
    public static final String CONNECTIONS_OPEN = "scopegate.connections.open";
    /** Gauge: exchanges in flight. */
    public static final String EXCHANGES_ACTIVE = "scopegate.exchanges.active";

    /** Counter; tags {@code source}, {@code family}: scopes added (dry-run decisions are not counted here). */
    public static final String REWRITES = "scopegate.rewrites";
    /** Counter; tags {@code source}, {@code family}: scopes decided in dry-run and not added. */
    public static final String REWRITES_DRY_RUN = "scopegate.rewrites.dry.run";
    /** Counter; tag {@code reason}. */
    public static final String REWRITE_SKIPS = "scopegate.rewrite.skips";
    /** Counter; tags {@code family}, {@code action} (forward, reject). */
    public static final String REWRITE_UNRESOLVED = "scopegate.rewrite.unresolved";
    /** Counter; tag {@code event} (captured, updated, deleted, rejected, failed). */
    public static final String REGISTRATIONS = "scopegate.registrations";
    /** Gauge: registrations in the store (refreshed periodically). */
    public static final String REGISTRATIONS_STORED = "scopegate.registrations.stored";
    /**
     * Counter; tags {@link #TAG_SOURCE}, {@link #TAG_FAMILY}, {@link #TAG_OUTCOME} ({@code accepted},
     * {@code rejected}) and {@link #TAG_ERROR} (the IdP's {@code error} code from a closed set, {@code none}
     * when accepted, {@code other} for any code outside it): what the IdP answered to the
     * authorization and PAR requests scopegate added a scope to.
     */
    public static final String REWRITE_OUTCOMES = "scopegate.rewrite.outcomes";
    /** Tag names of {@link #REWRITE_OUTCOMES}. */
    public static final String TAG_SOURCE = "source";
    public static final String TAG_FAMILY = "family";
    public static final String TAG_OUTCOME = "outcome";
    public static final String TAG_ERROR = "error";
    /** Counter; tag {@code source} (learned, registered): added scopes demoted after the IdP rejected them with invalid_scope. */
    public static final String SCOPE_DEMOTIONS = "scopegate.scope.demotions";
    /** Counter; tag {@code family}: authorization requests with a scope of their own extended by {@code scope.add-always}. */
    public static final String ADD_ALWAYS = "scopegate.rewrites.add.always";
    /** Counter: authorization responses given the {@code iss} parameter ({@code compat.add-iss}). */
    public static final String ISS_ADDED = "scopegate.iss.added";
    /** Counter; tag {@code from} (authorize, token). */
    public static final String SCOPES_LEARNED = "scopegate.scopes.learned";
    /** Counter; tags {@code source}, {@code family}: registration requests given a scope (scope.fill-registration). */
    public static final String REGISTRATION_SCOPES_FILLED = "scopegate.registration.scopes.filled";

    /** Caffeine's {@code cache.*} meters, renamed under our prefix; tag {@code cache} (the two values below). */
    public static final String CACHE_PREFIX = "scopegate.cache.";
    /**
     * Tag value: registrations. Its gets count every lookup (hit: answered from memory, "unknown"
     * included; miss: a store read); its size and evictions count known clients only.
     */
    public static final String CACHE_REGISTRATIONS = "registrations";
    /** Tag value: client_ids known to be unknown; its gets count the lookups the registrations could not answer. */
    public static final String CACHE_UNKNOWN_CLIENTS = "unknown-clients";
    /** Counter; tag {@code op} (get, put, delete, ping, count). */
    public static final String STORE_ERRORS = "scopegate.store.errors";
    /**
     * Gauge, 1 when the store answered its last ping (every few seconds, and at each
     * {@code /readyz}), 0 when it failed; NaN before the first answer.
     */
    public static final String STORE_UP = "scopegate.store.up";

    /**
     * Distribution summary (embedded store only), buckets 1 … 256: writes per committed
     * transaction. Its count is the number of commits (one fsync each), its sum the writes
     * committed; concurrent registrations share a commit (group commit).
     */
    public static final String STORE_COMMIT_BATCH_SIZE = "scopegate.store.commit.batch.size";
    /** Gauge (embedded store only): writes waiting for the store's writer thread. */
    public static final String STORE_WRITE_QUEUE = "scopegate.store.write.queue";

    /** Gauge (Redis store only), 1 while Redis answers, else 0. */
    public static final String STORE_REDIS_UP = "scopegate.store.redis.up";
    /** Gauge (Redis store only): registration writes kept in the local outbox until Redis takes them. */
    public static final String STORE_REDIS_OUTBOX_PENDING = "scopegate.store.redis.outbox.pending";
    /** Function counter (Redis store only): writes Redis did not take, kept in the outbox. */
    public static final String STORE_REDIS_DEFERRED_WRITES = "scopegate.store.redis.deferred.writes";
    /** Function counter (Redis store only): kept writes replayed to Redis. */
    public static final String STORE_REDIS_REPLAYED_WRITES = "scopegate.store.redis.replayed.writes";
    /** Function counter (Redis store only); tag {@code op} (get, write, ping): commands Redis failed or could not take. */
    public static final String STORE_REDIS_ERRORS = "scopegate.store.redis.errors";
    /**
     * Function counter (Redis store only); tag {@code cause} ({@code message}: an entry another
     * replica changed; {@code resync}: a whole-cache drop after notifications may have been missed).
     */
    public static final String STORE_REDIS_INVALIDATIONS = "scopegate.store.redis.invalidations";

    /** Function counter: successful metadata rounds. */
    public static final String METADATA_REFRESHES = "scopegate.metadata.refreshes";
    /** Function counter: failed metadata rounds. */
    public static final String METADATA_FAILURES = "scopegate.metadata.failures";
    /** Gauge, seconds since the last successful metadata round; NaN before the first. */
    public static final String METADATA_AGE = "scopegate.metadata.age";
    /**
     * Gauge, unix time in seconds of the last successful metadata round; NaN before the first.
     * Unlike {@link #METADATA_AGE} it does not change between rounds, so {@code time() - x} works
     * in PromQL and {@code changes(x[1h])} counts successful rounds.
     */
    public static final String METADATA_LAST_SUCCESS = "scopegate.metadata.last.success.timestamp";
    /** Gauge, 1 once metadata was fetched, else 0. */
    public static final String METADATA_READY = "scopegate.metadata.ready";
    /**
     * Counter; tag {@code outcome} ({@code resumed}, {@code unavailable}): requests held before
     * the IdP's first metadata because they might address an endpoint not yet known.
     */
    public static final String METADATA_WAITS = "scopegate.metadata.waits";
    /** Gauge: issuers learned from discovery requests ({@code metadata.issuers.learn}); 0 when off. */
    public static final String METADATA_ISSUERS_LEARNED = "scopegate.metadata.issuers.learned";
    /**
     * Counter; tag {@code outcome} ({@code learned}, {@code not-found}, {@code mismatch},
     * {@code failed}: after a fetch; {@code invalid}, {@code full}, {@code busy}: nothing fetched):
     * discovery requests for an issuer path scopegate did not know. Registered only when learning is on.
     */
    public static final String METADATA_ISSUER_DISCOVERIES = "scopegate.metadata.issuer.discoveries";

    /**
     * Gauge, 1 while the gateway is ready as {@code /readyz} judges it without the store ping:
     * the proxy listener accepts, no drain has begun, and the IdP's metadata was fetched once.
     */
    public static final String READY = "scopegate.ready";

    /** Counter: config reloads applied. */
    public static final String CONFIG_RELOADS = "scopegate.config.reloads";
    /** Counter: config reloads rejected (invalid file); the running config was kept. */
    public static final String CONFIG_RELOAD_FAILURES = "scopegate.config.reload.failures";
    /** Gauge, 1 when the last reload attempt succeeded, 0 when it was rejected. */
    public static final String CONFIG_LAST_RELOAD_SUCCESSFUL = "scopegate.config.last.reload.successful";
    /** Gauge, 1 while the file holds a restart-only change the process does not run yet. */
    public static final String CONFIG_RESTART_PENDING = "scopegate.config.restart.pending";

    /**
     * Counter; tags {@code context} ({@code listener}: {@code listen.tls}; {@code upstream}:
     * {@code upstream.tls}) and {@code outcome} ({@code ok}, {@code failed}): certificate files
     * re-read after they changed; a failed one left the running certificate in use.
     */
    public static final String TLS_RELOADS = "scopegate.tls.reloads";
    /**
     * Gauge, seconds since the epoch; tag {@code context}: when the certificate in use expires
     * (its {@code notAfter}): the listener's, or the client certificate sent to the IdP.
     */
    public static final String TLS_CERTIFICATE_EXPIRY = "scopegate.tls.certificate.expiry.timestamp";

    /** Function counter: access and audit lines dropped because the log writer was behind or failing. */
    public static final String LOG_DROPPED = "scopegate.log.dropped";

    /** Gauge, always 1; tags {@code version} (Maven project version), {@code revision} (git, or {@code unknown}). */
    public static final String BUILD_INFO = "scopegate.build.info";

    private MeterNames() {
    }
}
