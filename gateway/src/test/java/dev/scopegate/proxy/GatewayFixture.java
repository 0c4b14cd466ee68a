package dev.scopegate.proxy;

import dev.scopegate.metrics.ProxyMetrics;
import dev.scopegate.proxy.route.RequestRouter;
import dev.scopegate.proxy.route.RouteKind;
import dev.scopegate.proxy.upstream.OffLoopResolverGroup;
import dev.scopegate.proxy.upstream.Origin;
import dev.scopegate.proxy.upstream.UpstreamClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.ssl.SslContext;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A real gateway on {@code 127.0.0.1}, port 0, wired by hand (no config loader): two event loops,
 * a pooled upstream client, the pass-through router (or a given one). Closing it stops everything
 * it started, nudges Netty's leak detector so a leaked buffer is reported while the test still
 * runs, and fails the test if Netty logged a leak or an exception that escaped the gateway, or if
 * an exchange never ended. Not thread-safe; one per test.
 */
final class GatewayFixture implements AutoCloseable {

    static final long DEFAULT_RESPONSE_TIMEOUT_MILLIS = 5_000;
    /** upstream.read-timeout's own default. */
    static final long DEFAULT_READ_TIMEOUT_MILLIS = 60_000;

    private final Transport transport;
    private final ExecutorService blocking;
    private final UpstreamClient upstreamClient;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Lifecycle lifecycle = new Lifecycle();
    private final ProxyMetrics metrics;
    private final ProxyServer server;
    private final LogWatch logWatch = LogWatch.attach();
    private boolean closed;

    /** How to build a gateway; defaults: pass-through router, 75 s client idle timeout, plain TCP. */
    static final class Builder {
        private ProxySettings settings;
        private RequestRouter router = RequestRouter.PASS_THROUGH;
        private Duration clientIdleTimeout = Duration.ofSeconds(75);
        private SslContext listenerTls;
        private SslContext upstreamTls;
        private int upstreamMaxConnections = 64;
        private boolean nativeTransport = true;

        private Builder(ProxySettings settings) {
            this.settings = settings;
        }

        Builder router(RequestRouter r) {
            router = r;
            return this;
        }

        Builder clientIdleTimeout(Duration d) {
            clientIdleTimeout = d;
            return this;
        }

        /** Clients connect with TLS ({@code settings.tlsListener} should say so too). */
        Builder listenerTls(SslContext server) {
            listenerTls = server;
            return this;
        }

        /** The context upstream TLS connections use (instead of the JDK's default trust). */
        Builder upstreamTls(SslContext client) {
            upstreamTls = client;
            return this;
        }

        /** Upstream connections per origin over both event loops (half of them per loop). */
        Builder upstreamMaxConnections(int max) {
            upstreamMaxConnections = max;
            return this;
        }

        /** {@code false}: NIO even where epoll is available. */
        Builder nativeTransport(boolean allow) {
            nativeTransport = allow;
            return this;
        }

        GatewayFixture start() throws InterruptedException {
            return new GatewayFixture(this);
        }
    }

    static Builder builder(ProxySettings settings) {
        return new Builder(settings);
    }

    static Builder builder(int upstreamPort) {
        return new Builder(settings(upstreamPort, DEFAULT_RESPONSE_TIMEOUT_MILLIS, false, List.of()));
    }

    private GatewayFixture(Builder b) throws InterruptedException {
        transport = Transport.create(2, b.nativeTransport);
        blocking = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "test-resolver");
            t.setDaemon(true);
            return t;
        });
        UpstreamClient.Settings clientSettings = new UpstreamClient.Settings(Duration.ofSeconds(2), b.upstreamMaxConnections, 2,
                Duration.ofSeconds(60), 65536);
        OffLoopResolverGroup resolver = new OffLoopResolverGroup(blocking);
        upstreamClient = b.upstreamTls == null
                ? new UpstreamClient(transport.channelType(), resolver, clientSettings)
                : new UpstreamClient(transport.channelType(), resolver, clientSettings, b.upstreamTls);
        String[] labels = Arrays.stream(RouteKind.values()).map(RouteKind::label).toArray(String[]::new);
        metrics = new ProxyMetrics(registry, labels);
        ProxySettings settings = b.settings;
        server = new ProxyServer(transport,
                new ProxyServer.Listener("127.0.0.1", 0, listenerTls(b.listenerTls), 8192, 16384,
                        b.clientIdleTimeout),
                () -> settings, upstreamClient, b.router, metrics, new AccessLog(), lifecycle).start();
    }

    private static java.util.function.Supplier<SslContext> listenerTls(SslContext context) {
        return context == null ? null : () -> context;
    }

    /** A gateway whose IdP target is {@code upstreamPort} (Host kept, 5 s response timeout). */
    static GatewayFixture start(int upstreamPort) throws InterruptedException {
        return builder(upstreamPort).start();
    }

    static GatewayFixture start(ProxySettings settings) throws InterruptedException {
        return builder(settings).start();
    }

    static GatewayFixture start(int upstreamPort, RequestRouter router) throws InterruptedException {
        return builder(upstreamPort).router(router).start();
    }

    static ProxySettings settings(int upstreamPort, long responseTimeoutMillis, boolean rewriteHost,
                                  List<ProxySettings.Target> routes) {
        return new ProxySettings(target("/", upstreamPort, rewriteHost, false), routes, responseTimeoutMillis,
                List.of(), null, null, false, true);
    }

    static ProxySettings.Target target(String prefix, int port, boolean rewriteHost, boolean extra) {
        return target(prefix, port, rewriteHost, extra, DEFAULT_READ_TIMEOUT_MILLIS);
    }

    static ProxySettings.Target target(String prefix, int port, boolean rewriteHost, boolean extra,
                                       long readTimeoutMillis) {
        return new ProxySettings.Target(prefix, new Origin(false, "127.0.0.1", port), rewriteHost, extra,
                readTimeoutMillis);
    }

    int port() {
        return server.port();
    }

    boolean isNative() {
        return transport.isNative();
    }

    ProxyServer server() {
        return server;
    }

    Lifecycle lifecycle() {
        return lifecycle;
    }

    SimpleMeterRegistry registry() {
        return registry;
    }

    RawConnection connect() throws IOException {
        return RawConnection.open(port());
    }

    /** A logged problem containing {@code fragment} is part of the test, not a failure. */
    void expectLogged(String fragment) {
        logWatch.allow(fragment);
    }

    ProxyMetrics metrics() {
        return metrics;
    }

    /**
     * Closes everything; fails the test if an exchange never ended (a client that has seen its
     * whole response must not leave an exchange behind once its connection is closed).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        boolean idle;
        lifecycle.startDraining(); // so that the last exchange to end wakes awaitIdle
        try {
            idle = lifecycle.awaitIdle(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            idle = false;
        }
        int stuck = lifecycle.inFlight();
        server.close();
        upstreamClient.close();
        transport.close();
        blocking.shutdownNow();
        provokeLeakReports();
        logWatch.close();
        if (!logWatch.problems().isEmpty()) {
            throw new AssertionError("Netty reported problems:\n  " + String.join("\n  ", logWatch.problems()));
        }
        if (!idle) {
            throw new AssertionError(stuck + " exchange(s) still in flight when the test ended");
        }
    }

    /**
     * The leak detector reports a leaked buffer only when it is collected and a later allocation
     * polls the reference queue; make both happen before the test ends.
     */
    static void provokeLeakReports() {
        for (int round = 0; round < 2; round++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            for (ByteBufAllocator alloc : List.of(PooledByteBufAllocator.DEFAULT, UnpooledByteBufAllocator.DEFAULT,
                    ByteBufAllocator.DEFAULT)) {
                for (int i = 0; i < 4; i++) {
                    ByteBuf b = alloc.directBuffer(16);
                    b.release();
                    b = alloc.heapBuffer(16);
                    b.release();
                }
            }
        }
    }
}
