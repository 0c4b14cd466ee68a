package dev.scopegate.store.redis;

import java.util.Objects;

/**
 * The key layout under {@code store.redis.key-prefix} ({@code P}, default {@code scopegate:}):
 *
 * <table>
 *   <caption>Redis keys and channels</caption>
 *   <tr><th>name</th><th>type</th><th>holds</th></tr>
 *   <tr><td>{@code P client:<client_id>}</td><td>hash</td><td>{@code doc}: the registration as
 *       {@link dev.scopegate.store.RegistrationJson}; {@code at}: its {@code updated_at} in epoch
 *       milliseconds (compared by replays so an old write never replaces a newer one). Expires
 *       (PEXPIRE) the store's TTL after its last write or read.</td></tr>
 *   <tr><td>{@code P seq}</td><td>string (integer)</td><td>the number of the last change
 *       notification; a replica that sees the counter pass a number it never received knows it
 *       missed a change</td></tr>
 *   <tr><td>{@code P changes}</td><td>pub/sub channel</td><td>one message per change:
 *       {@code <seq> <origin> <client_id>}, {@code origin} naming the writing replica</td></tr>
 * </table>
 *
 * <p>Every key names one client or one counter, so every command and script touches one key: the
 * layout works unchanged on Redis Cluster. Immutable and thread-safe.
 */
final class RedisKeys {

    static final String CLIENT = "client:";
    static final String SEQ = "seq";
    static final String CHANNEL = "changes";
    static final String DOC_FIELD = "doc";
    static final String AT_FIELD = "at";

    private final String prefix;

    RedisKeys(String prefix) {
        this.prefix = Objects.requireNonNull(prefix, "prefix");
    }

    String prefix() {
        return prefix;
    }

    String client(String clientId) {
        return prefix + CLIENT + clientId;
    }

    /** The {@code client_id} of a key made by {@link #client}, or null for any other key. */
    String clientIdOf(String key) {
        String start = prefix + CLIENT;
        return key.startsWith(start) ? key.substring(start.length()) : null;
    }

    String seq() {
        return prefix + SEQ;
    }

    String channel() {
        return prefix + CHANNEL;
    }

    /** A SCAN MATCH pattern for every client key: the prefix's glob characters are escaped. */
    String clientPattern() {
        StringBuilder b = new StringBuilder(prefix.length() + CLIENT.length() + 1);
        String literal = prefix + CLIENT;
        for (int i = 0; i < literal.length(); i++) {
            char c = literal.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.append('*').toString();
    }
}
