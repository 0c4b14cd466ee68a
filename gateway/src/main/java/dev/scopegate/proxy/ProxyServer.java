package dev.scopegate.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The proxy listener: binds, builds each client pipeline in named steps, and shuts down
 * gracefully (stop accepting, let in-flight exchanges finish up to a bound, then close).
 *
 * <p>Client pipeline: {@code tls} (optional) → {@code http-decoder} and {@code http-encoder} ({@link ServerHttpCodec})
 * → {@code frontend} ({@link FrontendHandler}), which takes one decoded message at a time (so
 * pipelined requests, and their {@code 100 Continue}, are answered in order).
 */
public final class ProxyServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    /**
     * Listener settings fixed for the life of the process. {@code tls} (null: plain HTTP) is asked
     * for its current context at each accepted connection, on the event loop: it must return at once
     * (a reloading certificate swaps the context it returns; connections already open keep theirs).
     */
    public record Listener(String host, int port, /* nullable */ Supplier<SslContext> tls, int maxInitialLineBytes,
                           int maxHeaderBytes, Duration clientIdleTimeout) {}

    private final Transport transport;
    private final Listener listener;
    private final FrontendHandler.Shared shared;
    private final ChannelGroup channels = new DefaultChannelGroup("scopegate-clients", GlobalEventExecutor.INSTANCE);
    private Channel serverChannel;

    public ProxyServer(Transport transport, Listener listener, java.util.function.Supplier<ProxySettings> settings,
                       dev.scopegate.proxy.upstream.UpstreamClient upstream, dev.scopegate.proxy.route.RequestRouter router,
                       dev.scopegate.metrics.ProxyMetrics metrics, AccessLog accessLog, Lifecycle lifecycle) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.shared = new FrontendHandler.Shared(settings, upstream, router, metrics, accessLog, lifecycle);
    }

    public ProxyServer start() throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(transport.boss(), transport.workers())
                .channel(transport.serverChannelType())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                // With AUTO_READ off each read() is one recv: a buffer guess that never shrinks
                // below 2 KiB takes a typical request head whole instead of in pieces.
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(2048, 4096, 65536))
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        channels.add(ch);
                        ChannelPipeline p = ch.pipeline();
                        addTlsHandler(ch, p);
                        addHttp1Handlers(p);
                        addProxyHandlers(p);
                    }
                });
        serverChannel = b.bind(new InetSocketAddress(listener.host(), listener.port())).sync().channel();
        shared.lifecycle().listening(true);
        log.info("proxy listening on {} ({}, {} event loops{})", serverChannel.localAddress(),
                transport.isNative() ? "epoll" : "nio", transport.threads(), listener.tls() != null ? ", TLS" : "");
        return this;
    }

    private void addTlsHandler(SocketChannel ch, ChannelPipeline p) {
        if (listener.tls() != null) {
            p.addLast("tls", listener.tls().get().newHandler(ch.alloc()));
        }
    }

    private void addHttp1Handlers(ChannelPipeline p) {
        ServerHttpCodec.addTo(p, listener.maxInitialLineBytes(), listener.maxHeaderBytes(), 65536);
    }

    private void addProxyHandlers(ChannelPipeline p) {
        // the frontend keeps the idle timeout itself: one timer per connection, no per-write listener
        p.addLast("frontend", new FrontendHandler(shared, listener.clientIdleTimeout().toMillis()));
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /**
     * Drains, then stops: readiness says not ready at once ({@link Lifecycle#startDraining()}),
     * the listener keeps accepting while in-flight exchanges finish, for at most {@code drain}
     * (every response meanwhile says {@code Connection: close}, so clients move to another
     * replica), then it closes and so does every client connection left. A load balancer that
     * still sends a request during the drain gets an answer rather than a refused connection.
     * Blocks; not for event loops.
     */
    public void shutdown(Duration drain) {
        Lifecycle lifecycle = shared.lifecycle();
        lifecycle.startDraining();
        try {
            if (!lifecycle.awaitIdle(drain.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("drain timeout: closing {} in-flight exchanges", lifecycle.inFlight());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lifecycle.listening(false);
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        channels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
