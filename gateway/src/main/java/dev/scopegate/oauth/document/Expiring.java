package dev.scopegate.oauth.document;

import com.github.benmanes.caffeine.cache.Expiry;
import java.time.Duration;

/**
 * A cached value with its own time to live; {@link Duration#ZERO} serves the callers already
 * waiting for it (single flight) and is then dropped. Immutable.
 */
record Expiring<V>(V value, Duration ttl) {

    /** Caffeine's per-entry expiry: a (re)loaded entry lives for its own TTL; reads don't extend it. */
    static <K, V> Expiry<K, Expiring<V>> expiry() {
        return new Expiry<>() {
            @Override
            public long expireAfterCreate(K key, Expiring<V> value, long currentTime) {
                return value.ttl().toNanos();
            }

            @Override
            public long expireAfterUpdate(K key, Expiring<V> value, long currentTime, long currentDuration) {
                return value.ttl().toNanos();
            }

            @Override
            public long expireAfterRead(K key, Expiring<V> value, long currentTime, long currentDuration) {
                return currentDuration;
            }
        };
    }
}
