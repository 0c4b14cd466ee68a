package dev.scopegate.store.redis;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.RedisClusterURIUtil;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Turns {@code store.redis.uri} into Lettuce connections, on Lettuce's own event loops (never the
 * proxy's). What Lettuce accepts is accepted:
 *
 * <ul>
 *   <li>{@code redis://[user:password@]host[:port][/db][?timeout=2s]}, {@code rediss://} for TLS
 *       (JDK trust store; {@code ?verifyPeer=NONE|CA|FULL}). A server that reports
 *       {@code cluster_enabled:1} is then used as a seed of Redis Cluster.</li>
 *   <li>{@code redis://host1:port1,host2:port2}: several Redis Cluster seeds.</li>
 *   <li>{@code redis-sentinel://[password@]host1:26379,host2:26379[/db]#masterId}: Sentinel,
 *       following failovers.</li>
 * </ul>
 *
 * Commands time out after the URI's {@code timeout} (default {@link #DEFAULT_TIMEOUT}, not
 * Lettuce's minute); while disconnected they fail at once instead of queueing; a lost connection
 * is re-established in the background (100 ms doubling to 5 s). Thread-safe.
 */
final class RedisConnector implements AutoCloseable {

    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

    enum Mode { STANDALONE, SENTINEL, CLUSTER }

    /** A live connection: commands and (optionally) a pub/sub connection of the same deployment. */
    record Connection(Mode mode, StatefulConnection<String, String> data,
                      RedisClusterAsyncCommands<String, String> commands,
                      StatefulRedisPubSubConnection<String, String> pubSub) {

        boolean isOpen() {
            return data.isOpen();
        }

        /** Blocks until closed: not on a Lettuce thread. */
        void close() {
            if (pubSub != null) {
                pubSub.close();
            }
            data.close();
        }

        void closeAsync() {
            if (pubSub != null) {
                pubSub.closeAsync();
            }
            data.closeAsync();
        }
    }

    private final String description;
    private final List<RedisURI> uris;
    private final boolean sentinel;
    private final Duration timeout;
    private final ClientResources resources;
    private final ClientOptions options;
    private RedisClient standalone;
    private RedisClusterClient cluster;

    /** A connector whose password, if any, is in the URI. */
    RedisConnector(String uri) {
        this(uri, null);
    }

    /**
     * @param password the password of the Redis data nodes ({@code store.redis.password-file}),
     *                 for a URI that names none (a user name alone, {@code redis://user:@host}, is
     *                 kept); null: the URI's own
     * @throws IllegalArgumentException if Lettuce cannot parse {@code uri} (the message never
     *                                  quotes a password)
     */
    RedisConnector(String uri, String password) {
        Objects.requireNonNull(uri, "uri");
        this.description = describe(uri);
        String scheme = uri.substring(0, Math.max(0, uri.indexOf("://"))).toLowerCase(Locale.ROOT);
        this.sentinel = scheme.startsWith("redis-sentinel");
        try {
            this.uris = !sentinel && hostList(uri).contains(",")
                    ? RedisClusterURIUtil.toRedisURIs(URI.create(uri))
                    : List.of(RedisURI.create(uri));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("store.redis.uri " + description + " is not a Redis URI Lettuce accepts");
        }
        this.timeout = uri.contains("timeout=") ? uris.get(0).getTimeout() : DEFAULT_TIMEOUT;
        String user = password == null ? null : userName(uri);
        for (RedisURI u : uris) {
            u.setTimeout(timeout);
            if (password != null && user != null) {
                u.setAuthentication(user, password.toCharArray());
            } else if (password != null) {
                u.setAuthentication(password.toCharArray());
            }
        }
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(Delay.exponential(Duration.ofMillis(100), Duration.ofSeconds(5), 2, TimeUnit.MILLISECONDS))
                .build();
        this.options = ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .socketOptions(SocketOptions.builder().connectTimeout(connectTimeout()).keepAlive(true).build())
                .build();
    }

    /** How commands and connects are bounded. */
    Duration timeout() {
        return timeout;
    }

    Duration connectTimeout() {
        return timeout.multipliedBy(2);
    }

    /** The URI without credentials, for logs and messages. */
    String description() {
        return description;
    }

    /**
     * Connects (never blocking the caller). A standalone server reporting cluster mode is
     * reconnected to as a cluster.
     */
    synchronized CompletableFuture<Connection> connect(boolean withPubSub) {
        if (uris.size() > 1 && !sentinel) {
            return connectCluster(withPubSub);
        }
        if (standalone == null) {
            standalone = RedisClient.create(resources);
            standalone.setOptions(options);
        }
        RedisClient client = standalone;
        RedisURI uri = uris.get(0);
        return client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture().thenCompose(conn -> {
            CompletableFuture<Boolean> clusterMode = sentinel ? CompletableFuture.completedFuture(false)
                    : conn.async().info("cluster").toCompletableFuture().thenApply(i -> i != null && i.contains("cluster_enabled:1"));
            return clusterMode.handle((isCluster, e) -> {
                if (e != null) {
                    conn.closeAsync();
                    return CompletableFuture.<Connection>failedFuture(e);
                }
                if (isCluster) {
                    dropStandalone(client);
                    return connectCluster(withPubSub);
                }
                return withPubSub(conn, sentinel ? Mode.SENTINEL : Mode.STANDALONE, withPubSub,
                        () -> client.connectPubSubAsync(StringCodec.UTF8, uri).toCompletableFuture());
            }).thenCompose(f -> f);
        });
    }

    /** The server turned out to be a cluster node: the standalone client (and its probe connection) goes. */
    private synchronized void dropStandalone(RedisClient client) {
        if (standalone == client) {
            standalone = null;
        }
        client.shutdownAsync(0, 2, TimeUnit.SECONDS);
    }

    private synchronized CompletableFuture<Connection> connectCluster(boolean withPubSub) {
        if (cluster == null) {
            cluster = RedisClusterClient.create(resources, uris);
            cluster.setOptions(ClusterClientOptions.builder(options)
                    // Node connections are opened lazily: rejecting while one is still connecting would
                    // fail the first command for each node. Waiting is bounded by the command timeout.
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enablePeriodicRefresh(Duration.ofSeconds(30))
                            .enableAllAdaptiveRefreshTriggers()
                            .build())
                    .build());
        }
        RedisClusterClient client = cluster;
        // An asynchronous cluster connect needs the topology loaded first (Lettuce does not do it).
        return client.refreshPartitionsAsync().toCompletableFuture()
                .thenCompose(v -> client.connectAsync(StringCodec.UTF8))
                .thenCompose(conn -> withPubSub(conn, Mode.CLUSTER, withPubSub,
                () -> client.connectPubSubAsync(StringCodec.UTF8).thenApply(p -> p)));
    }

    private static <C extends StatefulConnection<String, String>> CompletableFuture<Connection> withPubSub(
            C conn, Mode mode, boolean wanted,
            java.util.function.Supplier<CompletableFuture<StatefulRedisPubSubConnection<String, String>>> pubSub) {
        RedisClusterAsyncCommands<String, String> commands = conn instanceof StatefulRedisClusterConnection<String, String> c
                ? c.async() : ((StatefulRedisConnection<String, String>) conn).async();
        if (!wanted) {
            return CompletableFuture.completedFuture(new Connection(mode, conn, commands, null));
        }
        return pubSub.get().handle((ps, e) -> {
            if (e != null) {
                conn.closeAsync();
                throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
            }
            return new Connection(mode, conn, commands, ps);
        });
    }

    /** Closes every connection, then Lettuce's clients and event loops; waits at most a few seconds. */
    @Override
    public synchronized void close() {
        for (AbstractRedisClient c : clients()) {
            c.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    private List<AbstractRedisClient> clients() {
        List<AbstractRedisClient> all = new ArrayList<>(2);
        if (standalone != null) {
            all.add(standalone);
        }
        if (cluster != null) {
            all.add(cluster);
        }
        return all;
    }

    /** {@code scheme://hosts/...} with any {@code user:password@} replaced by {@code ***@}. */
    static String describe(String uri) {
        int scheme = uri.indexOf("://");
        int start = scheme < 0 ? 0 : scheme + 3;
        int end = authorityEnd(uri, start);
        int at = uri.lastIndexOf('@', end - 1);
        if (at < start) {
            return uri;
        }
        return uri.substring(0, start) + "***" + uri.substring(at);
    }

    /** The {@code user} of {@code scheme://user:@host…} (a user name without a password), else null. */
    private static String userName(String uri) {
        int scheme = uri.indexOf("://");
        int start = scheme < 0 ? 0 : scheme + 3;
        int at = uri.lastIndexOf('@', authorityEnd(uri, start) - 1);
        if (at <= start || uri.charAt(at - 1) != ':' || at - 1 == start) {
            return null;
        }
        return uri.substring(start, at - 1);
    }

    private static String hostList(String uri) {
        int scheme = uri.indexOf("://");
        int start = scheme < 0 ? 0 : scheme + 3;
        int end = authorityEnd(uri, start);
        int at = uri.lastIndexOf('@', end - 1);
        return uri.substring(Math.max(start, at + 1), end);
    }

    private static int authorityEnd(String uri, int start) {
        for (int i = start; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c == '/' || c == '?' || c == '#') {
                return i;
            }
        }
        return uri.length();
    }
}
