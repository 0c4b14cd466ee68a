package dev.scopegate.model;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Makes registrations that were registered alike share one copy of what they have in common:
 * the scope, redirect URIs, grant types, client name, the management URI's text around the
 * {@code client_id} (together a {@link Registration.Profile}) and the learned scope. A million
 * ChatGPT connectors then hold one {@code "https://chatgpt.com/connector_platform_oauth_redirect"}
 * between them instead of a million.
 *
 * <p>The canonical copies live in a Caffeine cache bounded by an estimate of their size in
 * bytes, so values seen once (a redirect URI on a random localhost port) cost at most that bound
 * and the frequent ones stay. A value the table does not keep is simply not shared: interning
 * never changes what a registration says, only which instances it points to.
 *
 * <p>Thread-safe; {@link #intern} never blocks on I/O. Table maintenance runs on the given
 * executor.
 */
public final class RegistrationInterner {

    /** Rough bytes a table entry costs beyond its value (cache node, map node and table slot). */
    private static final int ENTRY_OVERHEAD = 100;

    private final Cache<Object, Object> canonical;

    /**
     * @param maxBytes bound on the estimated bytes of the canonical copies kept
     */
    public RegistrationInterner(long maxBytes, Executor executor) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must not be negative: " + maxBytes);
        }
        this.canonical = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((Object key, Object value) -> ENTRY_OVERHEAD + bytes(key))
                .executor(Objects.requireNonNull(executor, "executor"))
                .build();
    }

    /**
     * A registration equal to {@code registration} whose shared parts are the canonical copies
     * ({@code registration} itself when they already are).
     */
    public Registration intern(Registration registration) {
        Registration.Profile profile = registration.profile();
        Registration.Profile shared = (Registration.Profile) canonical.getIfPresent(profile);
        if (shared == null) {
            shared = canonical(new Registration.Profile(canonical(profile.scope()),
                    canonical(profile.redirectUris()), canonical(profile.grantTypes()),
                    canonical(profile.clientName()), canonical(profile.registrationClientUri())));
        }
        return registration.sharing(shared, canonical(registration.learnedScope()));
    }

    /** Number of canonical copies kept now (approximate). */
    public long estimatedSize() {
        return canonical.estimatedSize();
    }

    /** The estimated bytes kept now, after pending evictions; for tests. */
    long weightedSize() {
        canonical.cleanUp();
        return canonical.policy().eviction().orElseThrow().weightedSize().orElseThrow();
    }

    /**
     * The kept instance equal to {@code value}, else {@code value}, which is kept from then on
     * if the bound allows. Keys of different classes never compare equal (a String, a List, a
     * Profile, a UriAroundId), so the cast is safe.
     */
    @SuppressWarnings("unchecked")
    private <T> T canonical(T value) {
        if (value == null || value instanceof List<?> list && list.isEmpty()) {
            return value;
        }
        T kept = (T) canonical.get(value, v -> v);
        return kept == null ? value : kept;
    }

    /** Estimated bytes {@code value} keeps reachable (Latin-1 strings, compressed references). */
    static int bytes(Object value) {
        if (value == null) {
            return 0;
        }
        if (value instanceof String s) {
            return 40 + s.length();
        }
        if (value instanceof List<?> list) {
            int sum = 24 + 4 * list.size();
            for (Object e : list) {
                sum += bytes(e);
            }
            return sum;
        }
        if (value instanceof Registration.UriAroundId around) {
            return 16 + bytes(around.prefix()) + bytes(around.suffix());
        }
        if (value instanceof Registration.Profile p) {
            return 32 + bytes(p.scope()) + bytes(p.redirectUris()) + bytes(p.grantTypes()) + bytes(p.clientName())
                    + bytes(p.registrationClientUri());
        }
        return 16;
    }
}
