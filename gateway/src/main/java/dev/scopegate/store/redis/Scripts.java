package dev.scopegate.store.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;

/**
 * The Lua scripts the store runs. Each touches one key ({@code KEYS[1]}, a client hash), so it is
 * atomic on one Redis and routable on Redis Cluster; the notification is published by the same
 * script, so a write whose reply the writer saw was announced.
 */
final class Scripts {

    /** What {@link #WRITE} returns when a guarded write found a newer entry and changed nothing. */
    static final long KEPT_NEWER = -1;

    /**
     * Writes or deletes one client and announces it.
     *
     * <pre>
     * KEYS[1]  the client hash
     * ARGV[1]  "put" or "del"
     * ARGV[2]  the document (ignored by "del")
     * ARGV[3]  the change's time, epoch ms (the entry's updated_at, or when it was deleted)
     * ARGV[4]  TTL in ms
     * ARGV[5]  "1": guarded (a replay): keep an entry whose "at" is newer (for "put": not older)
     * ARGV[6]  channel to publish on, "" for none
     * ARGV[7]  the message
     * </pre>
     *
     * Returns 1 (put), the number of keys deleted (del), or -1 when a guard kept a newer entry.
     * The message is published even then: its sequence number was taken and receivers count it.
     */
    static final String WRITE = """
            local at = tonumber(ARGV[3])
            local result
            if ARGV[5] == '1' then
              local cur = redis.call('HGET', KEYS[1], 'at')
              if cur then
                local c = tonumber(cur)
                if (ARGV[1] == 'put' and c >= at) or (ARGV[1] == 'del' and c > at) then
                  result = -1
                end
              end
            end
            if result == nil then
              if ARGV[1] == 'del' then
                result = redis.call('DEL', KEYS[1])
              else
                redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'at', ARGV[3])
                redis.call('PEXPIRE', KEYS[1], ARGV[4])
                result = 1
              end
            end
            if ARGV[6] ~= '' then
              redis.call('PUBLISH', ARGV[6], ARGV[7])
            end
            return result
            """;

    static final String WRITE_SHA = sha1(WRITE);

    private Scripts() {
    }

    /**
     * Runs {@link #WRITE} on {@code key}: by digest, and by its text once when the server does not
     * know it yet (first use, a restarted Redis, another Cluster node).
     */
    static CompletableFuture<Long> write(RedisClusterAsyncCommands<String, String> commands, String key,
                                         String... args) {
        String[] keys = {key};
        return commands.<Long>evalsha(WRITE_SHA, ScriptOutputType.INTEGER, keys, args).toCompletableFuture()
                .handle((n, e) -> {
                    Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                            ? e.getCause() : e;
                    if (cause instanceof RedisNoScriptException) {
                        return commands.<Long>eval(WRITE, ScriptOutputType.INTEGER, keys, args).toCompletableFuture();
                    }
                    return e == null ? CompletableFuture.completedFuture(n) : CompletableFuture.<Long>failedFuture(cause);
                }).thenCompose(f -> f);
    }

    private static String sha1(String script) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(script.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is not available", e);
        }
    }
}
