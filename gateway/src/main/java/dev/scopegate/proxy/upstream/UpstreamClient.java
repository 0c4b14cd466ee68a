package dev.scopegate.proxy.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.pool.AbstractChannelPoolHandler;
import io.netty.channel.pool.ChannelHealthChecker;
import io.netty.channel.pool.ChannelPool;
import io.netty.channel.pool.FixedChannelPool;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Keep-alive connections to upstream origins: one {@link FixedChannelPool} per (event loop,
 * origin), so a client connection and its upstream connection always share one event loop and
 * no lock is taken on the hot path. Each loop may open {@code ceil(maxConnections / loops)}
 * connections per origin; acquires beyond that wait up to the connect timeout.
 *
 * <p>Thread-safe; {@link #acquire} must be called on {@code loop}.
 */
public final class UpstreamClient implements AutoCloseable {

    /** Settings that shape new connections. */
    public record Settings(Duration connectTimeout, int maxConnections, int loops, Duration idleTimeout,
                           int maxResponseHeaderBytes) {}

    private record Key(EventLoop loop, Origin origin) {}

    private final Class<? extends SocketChannel> channelType;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final Settings settings;
    private final SslContext sslContext;
    private final Map<Key, ChannelPool> pools = new ConcurrentHashMap<>();

    public UpstreamClient(Class<? extends SocketChannel> channelType,
                          AddressResolverGroup<InetSocketAddress> resolver, Settings settings) {
        this(channelType, resolver, settings, defaultSsl());
    }

    public UpstreamClient(Class<? extends SocketChannel> channelType,
                          AddressResolverGroup<InetSocketAddress> resolver, Settings settings, SslContext sslContext) {
        this.channelType = Objects.requireNonNull(channelType, "channelType");
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
    }

    private static SslContext defaultSsl() {
        try {
            return SslContextBuilder.forClient().build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the upstream TLS context", e);
        }
    }

    /** The pool of {@code origin} on {@code loop}; cache it per client connection. */
    public ChannelPool pool(EventLoop loop, Origin origin) {
        return pools.computeIfAbsent(new Key(loop, origin), k -> newPool(loop, origin));
    }

    /**
     * Acquires a connection; the future fails with an {@link UpstreamFailure}. Completes on
     * {@code loop}.
     */
    public Future<UpstreamConnection> acquire(ChannelPool pool, EventLoop loop) {
        Promise<UpstreamConnection> promise = loop.newPromise();
        pool.acquire().addListener((Future<Channel> f) -> {
            if (f.isSuccess()) {
                promise.setSuccess(UpstreamConnection.of(f.getNow()));
            } else {
                promise.setFailure(classify(f.cause()));
            }
        });
        return promise;
    }

    private static UpstreamFailure classify(Throwable cause) {
        if (cause instanceof UpstreamFailure u) {
            return u;
        }
        if (cause instanceof io.netty.channel.ConnectTimeoutException) {
            return new UpstreamFailure(UpstreamFailure.Kind.CONNECT_TIMEOUT, "upstream connect timed out", cause);
        }
        if (cause instanceof TimeoutException) {
            return new UpstreamFailure(UpstreamFailure.Kind.POOL_EXHAUSTED, "no upstream connection available in time", cause);
        }
        if (cause instanceof ConnectException) {
            return new UpstreamFailure(UpstreamFailure.Kind.CONNECT_ERROR, "upstream refused the connection", cause);
        }
        return new UpstreamFailure(UpstreamFailure.Kind.CONNECT_ERROR, "upstream connect failed: " + cause, cause);
    }

    private ChannelPool newPool(EventLoop loop, Origin origin) {
        int perLoop = Math.max(1, (settings.maxConnections() + settings.loops() - 1) / settings.loops());
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(channelType)
                .resolver(resolver)
                .remoteAddress(InetSocketAddress.createUnresolved(origin.host(), origin.port()))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true);
        long acquireTimeout = Math.max(1, settings.connectTimeout().toMillis());
        FixedChannelPool[] self = new FixedChannelPool[1];
        self[0] = new FixedChannelPool(bootstrap, new AbstractChannelPoolHandler() {
            @Override
            public void channelCreated(Channel ch) {
                ChannelPipeline p = ch.pipeline();
                if (origin.tls()) {
                    SslHandler ssl = sslContext.newHandler(ch.alloc(), origin.host(), origin.port());
                    SSLEngine engine = ssl.engine();
                    SSLParameters params = engine.getSSLParameters();
                    params.setEndpointIdentificationAlgorithm("HTTPS");
                    engine.setSSLParameters(params);
                    p.addLast("tls", ssl);
                }
                p.addLast("http", new HttpClientCodec(new HttpDecoderConfig()
                        .setMaxHeaderSize(settings.maxResponseHeaderBytes())
                        .setMaxChunkSize(65536)
                        .setAllowDuplicateContentLengths(false)
                        .setUseRfc9112TransferEncoding(true), false, true));
                long idle = settings.idleTimeout().toMillis();
                p.addLast("idle", new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
                p.addLast("upstream", new UpstreamConnection(self[0]));
            }
        }, ChannelHealthChecker.ACTIVE, FixedChannelPool.AcquireTimeoutAction.FAIL, acquireTimeout,
                perLoop, 100_000, true, true);
        return self[0];
    }

    @Override
    public void close() {
        pools.values().forEach(ChannelPool::close);
        pools.clear();
    }
}
