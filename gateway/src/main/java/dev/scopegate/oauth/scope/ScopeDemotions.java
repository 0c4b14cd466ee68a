package dev.scopegate.oauth.scope;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.config.ScopegateConfig.Source;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The candidates the IdP rejected with {@code invalid_scope}: a {@code learned} or
 * {@code registered} scope scopegate added to a client's request, which the IdP refused. While
 * demoted, {@link ScopeResolver} skips that exact candidate for that client, so the next request
 * falls through to the next source. Keyed by client_id, source and the exact scope value added:
 * another client's scopes, another source of the same client, and a scope learned later with a
 * different value are never affected.
 *
 * <p>Bounded ({@link #MAX_ENTRIES}, least recently used first out) and temporary ({@link #TTL} after
 * the rejection): the IdP may be fixed, or the demotion may have been caused by a request forged
 * with another client's client_id. Held in this process only (each replica learns its own). Time
 * comes from the injected {@link Ticker} (expiry) and {@link Clock} (the instant shown). Thread-safe;
 * reads never block.
 */
public final class ScopeDemotions {

    /** How long a demotion lasts. */
    public static final Duration TTL = Duration.ofHours(24);
    /** At most this many demotions are held; older ones are dropped first. */
    public static final long MAX_ENTRIES = 10_000;

    /** No demotion ever: what a resolver built without one reads. */
    public static final ScopeDemotions NONE = new ScopeDemotions(Ticker.systemTicker(), Clock.systemUTC(), 0);

    private record Key(String clientId, Source source, String scope) {}

    private final Cache<Key, Instant> demoted;
    private final Clock clock;

    public ScopeDemotions(Ticker ticker, Clock clock) {
        this(ticker, clock, MAX_ENTRIES);
    }

    private ScopeDemotions(Ticker ticker, Clock clock, long max) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.demoted = Caffeine.newBuilder().ticker(Objects.requireNonNull(ticker, "ticker")).maximumSize(max)
                .expireAfterWrite(TTL).executor(Runnable::run).build();
    }

    /** Whether a rejection of a scope from {@code source} can demote it: only learned and registered ones. */
    public static boolean demotable(Source source) {
        return source == Source.LEARNED || source == Source.REGISTERED;
    }

    /**
     * Demotes {@code scope} (exactly as it was added) from {@code source} for {@code clientId};
     * returns false (and does nothing) for a source that cannot be demoted.
     */
    public boolean demote(String clientId, Source source, String scope) {
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(scope, "scope");
        if (!demotable(source) || this == NONE) {
            return false;
        }
        demoted.put(new Key(clientId, source, scope), clock.instant());
        return true;
    }

    /** Whether this exact candidate is demoted; allocation-free when nothing is demoted at all. */
    public boolean isDemoted(String clientId, Source source, String scope) {
        if (demoted.estimatedSize() == 0 || !demotable(source)) {
            return false;
        }
        return demoted.getIfPresent(new Key(clientId, source, scope)) != null;
    }

    /** When this exact candidate was demoted, or null when it is not. */
    public /* nullable */ Instant demotedAt(String clientId, Source source, String scope) {
        return demotable(source) ? demoted.getIfPresent(new Key(clientId, source, scope)) : null;
    }

    /** Forgets every demotion of {@code clientId} (its registration was deleted or replaced). */
    public void forget(String clientId) {
        demoted.asMap().keySet().removeIf(k -> k.clientId().equals(clientId));
    }
}
