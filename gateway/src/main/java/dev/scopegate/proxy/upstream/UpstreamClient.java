package dev.scopegate.proxy.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.AddressResolverGroup;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Keep-alive connections to upstream origins: one {@link UpstreamPool} per (event loop, origin),
 * so a client connection and its upstream connection always share one event loop and no lock is
 * taken on the hot path. Each loop may open {@code ceil(maxConnections / loops)} connections per
 * origin; acquires beyond that wait up to the connect timeout.
 *
 * <p>Thread-safe; a pool is used only on its own loop.
 */
public final class UpstreamClient implements AutoCloseable {

    /** Settings that shape new connections. */
    public record Settings(Duration connectTimeout, int maxConnections, int loops, Duration idleTimeout,
                           int maxResponseHeaderBytes) {}

    private record Key(EventLoop loop, Origin origin) {}

    private final Class<? extends SocketChannel> channelType;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final Settings settings;
    private final Function<Origin, SslContext> sslContexts;
    private final Map<Key, UpstreamPool> pools = new ConcurrentHashMap<>();

    public UpstreamClient(Class<? extends SocketChannel> channelType,
                          AddressResolverGroup<InetSocketAddress> resolver, Settings settings) {
        this(channelType, resolver, settings, constant(defaultSsl()));
    }

    public UpstreamClient(Class<? extends SocketChannel> channelType,
                          AddressResolverGroup<InetSocketAddress> resolver, Settings settings, SslContext sslContext) {
        this(channelType, resolver, settings, constant(Objects.requireNonNull(sslContext, "sslContext")));
    }

    /**
     * @param sslContexts the client TLS context of each https origin, asked at every new connection
     *                    (on its event loop: it must return at once), so a context reloaded from
     *                    its files applies to the connections opened after the swap
     */
    public UpstreamClient(Class<? extends SocketChannel> channelType, AddressResolverGroup<InetSocketAddress> resolver,
                          Settings settings, Function<Origin, SslContext> sslContexts) {
        this.channelType = Objects.requireNonNull(channelType, "channelType");
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.sslContexts = Objects.requireNonNull(sslContexts, "sslContexts");
    }

    private static Function<Origin, SslContext> constant(SslContext context) {
        return origin -> context;
    }

    /** The JDK's trust store, no client certificate: TLS to any upstream without settings of its own. */
    public static SslContext defaultSsl() {
        try {
            return SslContextBuilder.forClient().build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the upstream TLS context", e);
        }
    }

    /** The pool of {@code origin} on {@code loop}; cache it per client connection. */
    public UpstreamPool pool(EventLoop loop, Origin origin) {
        return pools.computeIfAbsent(new Key(loop, origin), k -> newPool(loop, origin));
    }

    private UpstreamPool newPool(EventLoop loop, Origin origin) {
        int perLoop = Math.max(1, (settings.maxConnections() + settings.loops() - 1) / settings.loops());
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(channelType)
                .resolver(resolver)
                .remoteAddress(InetSocketAddress.createUnresolved(origin.host(), origin.port()))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(2048, 4096, 65536)) // one recv per read(): take a whole response head
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true);
        long acquireTimeout = Math.max(1, settings.connectTimeout().toMillis());
        UpstreamPool pool = new UpstreamPool(loop, bootstrap, perLoop, 100_000, acquireTimeout,
                settings.idleTimeout().toMillis());
        bootstrap.handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ChannelPipeline p = ch.pipeline();
                if (origin.tls()) {
                    SslHandler ssl = sslContexts.apply(origin).newHandler(ch.alloc(), origin.host(), origin.port());
                    SSLEngine engine = ssl.engine();
                    SSLParameters params = engine.getSSLParameters();
                    params.setEndpointIdentificationAlgorithm("HTTPS");
                    engine.setSSLParameters(params);
                    p.addLast("tls", ssl);
                }
                ClientHttpCodec.addTo(p, new HttpDecoderConfig()
                        .setMaxHeaderSize(settings.maxResponseHeaderBytes())
                        .setMaxChunkSize(65536)
                        .setAllowDuplicateContentLengths(false)
                        .setUseRfc9112TransferEncoding(true));
                p.addLast("upstream", new UpstreamConnection(pool));
            }
        });
        return pool;
    }

    @Override
    public void close() {
        pools.values().forEach(UpstreamPool::close);
        pools.clear();
    }
}
