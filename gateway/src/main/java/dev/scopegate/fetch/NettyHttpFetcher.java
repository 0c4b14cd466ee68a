// Over 400 lines: the outbound HTTP client (address guard, TLS per origin, size and time caps, redirects off) reads as one request's path.
package dev.scopegate.fetch;

import dev.scopegate.oauth.HttpFetcher;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpContentException;
import dev.scopegate.tls.DefaultClientTls;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.function.Predicate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * {@link HttpFetcher} on Netty: one short-lived connection per fetch ({@code Connection: close};
 * these fetches are rare, so there is no pool), on an event loop of the injected group.
 *
 * <p>Each fetch: resolve the host off the event loop (the JDK resolver blocks), keep only the
 * addresses the {@linkplain Builder#addressFilter address filter} permits (an SSRF guard that
 * cannot be bypassed by DNS rebinding, because the checked address is the one connected to), try
 * them in order, send {@code GET} with {@code Accept: application/json}, aggregate the response
 * under {@code maxBytes} and complete. http and https; https verifies the certificate chain and the
 * URI's host name (endpoint identification {@code HTTPS}) and sends SNI.
 *
 * <p>Failures: {@link TimeoutException} when no complete response arrived within the timeout
 * (connect included), {@link HttpFetcher.BodyTooLargeException} over the cap,
 * {@link AddressRejectedException} when the filter rejects every address, otherwise the I/O
 * exception (connection refused, TLS failure, connection closed early, malformed response).
 *
 * <p>Thread-safe. {@link #get} never blocks; the returned future completes on a Netty event loop
 * (or on the resolver thread for resolution failures), so callers hop to their own executor before
 * doing anything slow. Every buffer is released on every path.
 */
public final class NettyHttpFetcher implements HttpFetcher, AutoCloseable {

    /** Default bound on establishing the TCP connection (further bounded by each fetch's timeout). */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final EventLoopGroup group;
    private final Class<? extends Channel> channelType;
    private final Duration connectTimeout;
    /** Built on first use unless given: loading the JDK trust store is a tenth of a second of startup. */
    private final Supplier<SslContext> sslContext;
    /** {@code host:port} (host lower-case) of https origins with a context of their own. */
    private final Map<String, Supplier<SslContext>> originSslContexts;
    private final Executor resolverExecutor;
    private final /* nullable */ ExecutorService ownedResolver;
    private final Predicate<InetAddress> addressFilter;
    private final String userAgent;
    private final Set<Exchange> inFlight = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /** A fetcher on {@code group} (an NIO group) with every default of {@link Builder}. */
    public NettyHttpFetcher(EventLoopGroup group) {
        this(builder(group));
    }

    private NettyHttpFetcher(Builder b) {
        this.group = b.group;
        this.channelType = b.channelType;
        this.connectTimeout = b.connectTimeout;
        this.sslContext = b.sslContext != null ? b.sslContext : new DefaultClientTls();
        this.originSslContexts = Map.copyOf(b.originSslContexts);
        if (b.resolverExecutor != null) {
            this.resolverExecutor = b.resolverExecutor;
            this.ownedResolver = null;
        } else {
            ThreadPoolExecutor pool = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                    r -> {
                        Thread t = new Thread(r, "scopegate-fetch-resolver");
                        t.setDaemon(true);
                        return t;
                    });
            pool.allowCoreThreadTimeOut(true);
            this.resolverExecutor = pool;
            this.ownedResolver = pool;
        }
        this.addressFilter = b.addressFilter;
        this.userAgent = b.userAgent;
    }

    /** Starts a builder; {@code group} is used, never shut down, by the fetcher. */
    public static Builder builder(EventLoopGroup group) {
        return new Builder(group);
    }

    @Override
    public CompletableFuture<Response> get(URI uri, Map<String, String> headers, int maxBytes, Duration timeout) {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(headers, "headers");
        Objects.requireNonNull(timeout, "timeout");
        CompletableFuture<Response> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new IllegalStateException("fetcher is closed"));
            return result;
        }
        if (maxBytes < 0 || timeout.isNegative() || timeout.isZero()) {
            result.completeExceptionally(new IllegalArgumentException(
                    "maxBytes must be >= 0 and timeout > 0, got " + maxBytes + " and " + timeout));
            return result;
        }
        Target target;
        try {
            target = Target.of(uri);
        } catch (IllegalArgumentException e) {
            result.completeExceptionally(e);
            return result;
        }
        Exchange exchange = new Exchange(uri, target, Map.copyOf(headers), maxBytes, timeout, group.next(), result);
        inFlight.add(exchange);
        result.whenComplete((r, e) -> {
            inFlight.remove(exchange);
            exchange.cleanUp();
        });
        try {
            exchange.start();
        } catch (RejectedExecutionException e) {
            // The event loop group is shutting down.
            result.completeExceptionally(e);
        }
        return result;
    }

    /**
     * Fails every fetch in flight, closes their connections and stops the fetcher's own resolver
     * threads. Does not shut down the event loop group (it is not ours). Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        for (Exchange exchange : inFlight) {
            exchange.fail(new IOException("fetcher closed"));
        }
        if (ownedResolver != null) {
            ownedResolver.shutdownNow();
        }
    }

    /** No address the host name resolved to is permitted by the fetcher's address filter. */
    public static final class AddressRejectedException extends IOException {
        public AddressRejectedException(String message) {
            super(message);
        }
    }

    /**
     * Options of a {@link NettyHttpFetcher}. Not thread-safe; build once at start-up.
     */
    public static final class Builder {
        private final EventLoopGroup group;
        private Class<? extends Channel> channelType = NioSocketChannel.class;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Supplier<SslContext> sslContext;
        private final Map<String, Supplier<SslContext>> originSslContexts = new HashMap<>();
        private Executor resolverExecutor;
        private Predicate<InetAddress> addressFilter = a -> true;
        private String userAgent = "scopegate";

        private Builder(EventLoopGroup group) {
            this.group = Objects.requireNonNull(group, "group");
        }

        /**
         * The socket channel class matching the group's transport: {@code NioSocketChannel}
         * (default) for an NIO group, {@code EpollSocketChannel} for an epoll group.
         */
        public Builder channelType(Class<? extends Channel> channelType) {
            this.channelType = Objects.requireNonNull(channelType, "channelType");
            return this;
        }

        /** Bound on establishing TCP (default 5 s); a fetch's own timeout bounds it further. */
        public Builder connectTimeout(Duration connectTimeout) {
            if (connectTimeout.isNegative() || connectTimeout.isZero()) {
                throw new IllegalArgumentException("connectTimeout must be positive: " + connectTimeout);
            }
            this.connectTimeout = connectTimeout;
            return this;
        }

        /**
         * The client TLS context (default: {@code SslContextBuilder.forClient()}, the JDK trust
         * store). Tests pass one trusting their own certificate. Host-name verification is
         * switched on for every connection whatever this context says.
         */
        public Builder sslContext(SslContext sslContext) {
            Objects.requireNonNull(sslContext, "sslContext");
            this.sslContext = () -> sslContext;
            return this;
        }

        /** The client TLS context, asked at each new https connection (e.g. one built on first use). */
        public Builder sslContext(Supplier<SslContext> sslContext) {
            this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
            return this;
        }

        /**
         * The client TLS context of connections to one https origin ({@code scheme://host[:port]} of
         * {@code origin}; path ignored) instead of {@link #sslContext}: the IdP's CA bundle and client
         * certificate. Read at each new connection, so a context that is reloaded applies to the next
         * fetch. Host-name verification stays on.
         */
        public Builder sslContext(URI origin, Supplier<SslContext> context) {
            Objects.requireNonNull(context, "context");
            Target t = Target.of(origin);
            if (!t.tls()) {
                throw new IllegalArgumentException("not an https origin: " + origin);
            }
            originSslContexts.put(originKey(t), context);
            return this;
        }

        /**
         * Where the blocking JDK host-name lookup runs (default: two daemon threads owned and
         * stopped by the fetcher). IP literals are never looked up.
         */
        public Builder resolverExecutor(Executor resolverExecutor) {
            this.resolverExecutor = Objects.requireNonNull(resolverExecutor, "resolverExecutor");
            return this;
        }

        /**
         * Which resolved addresses may be connected to (default: all). Used as an SSRF guard for
         * client-supplied URLs, e.g. rejecting loopback, site-local and link-local addresses.
         */
        public Builder addressFilter(Predicate<InetAddress> addressFilter) {
            this.addressFilter = Objects.requireNonNull(addressFilter, "addressFilter");
            return this;
        }

        /** The {@code User-Agent} sent (default {@code scopegate}); a {@code headers} entry overrides it. */
        public Builder userAgent(String userAgent) {
            this.userAgent = Objects.requireNonNull(userAgent, "userAgent");
            return this;
        }

        public NettyHttpFetcher build() {
            return new NettyHttpFetcher(this);
        }
    }

    private static String originKey(Target t) {
        return t.host().toLowerCase(Locale.ROOT) + ":" + t.port();
    }

    /** Where to connect and what to put in the request line and default {@code Host}. */
    record Target(boolean tls, String host, int port, String hostHeader, String requestTarget) {

        static Target of(URI uri) {
            if (!uri.isAbsolute() || uri.isOpaque() || uri.getRawAuthority() == null) {
                throw new IllegalArgumentException("not an absolute http(s) URI: " + uri);
            }
            String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
            boolean tls;
            if (scheme.equals("https")) {
                tls = true;
            } else if (scheme.equals("http")) {
                tls = false;
            } else {
                throw new IllegalArgumentException("unsupported scheme (http or https only): " + uri);
            }
            int defaultPort = tls ? 443 : 80;
            String host = uri.getHost();
            int port = uri.getPort();
            if (host == null) {
                // java.net.URI refuses host names with '_' (docker-compose service names) as a
                // server authority; take the authority apart ourselves.
                String authority = uri.getRawAuthority();
                authority = authority.substring(authority.lastIndexOf('@') + 1);
                int colon = authority.lastIndexOf(':');
                if (colon > 0 && !authority.endsWith("]")) {
                    try {
                        port = Integer.parseInt(authority.substring(colon + 1));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("bad port in " + uri, e);
                    }
                    host = authority.substring(0, colon);
                } else {
                    host = authority;
                }
                if (host.isEmpty()) {
                    throw new IllegalArgumentException("no host in " + uri);
                }
            }
            String bareHost = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
            int effectivePort = port == -1 ? defaultPort : port;
            if (effectivePort < 1 || effectivePort > 65535) {
                throw new IllegalArgumentException("bad port in " + uri);
            }
            String hostHeader = effectivePort == defaultPort ? host : host + ":" + effectivePort;
            String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
            String requestTarget = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
            return new Target(tls, bareHost, effectivePort, hostHeader, requestTarget);
        }
    }

    /** One fetch: resolution, connection attempts, request, response, and its single completion. */
    private final class Exchange {
        private final URI uri;
        private final Target target;
        private final Map<String, String> headers;
        private final int maxBytes;
        private final Duration timeout;
        private final EventLoop loop;
        private final CompletableFuture<Response> result;
        private volatile Channel channel;
        private volatile ScheduledFuture<?> timer;

        Exchange(URI uri, Target target, Map<String, String> headers, int maxBytes, Duration timeout,
                 EventLoop loop, CompletableFuture<Response> result) {
            this.uri = uri;
            this.target = target;
            this.headers = headers;
            this.maxBytes = maxBytes;
            this.timeout = timeout;
            this.loop = loop;
            this.result = result;
        }

        void start() {
            long nanos = saturatedNanos(timeout);
            timer = loop.schedule(() -> fail(new TimeoutException(
                    "no complete response from " + uri + " within " + timeout)), nanos, TimeUnit.NANOSECONDS);
            if (result.isDone()) {
                timer.cancel(false);
                return;
            }
            InetAddress literal = NetUtil.createInetAddressFromIpAddressString(target.host());
            if (literal != null) {
                loop.execute(() -> connect(permitted(new InetAddress[] {literal}), 0, null));
                return;
            }
            try {
                resolverExecutor.execute(this::resolve);
            } catch (RejectedExecutionException e) {
                fail(e);
            }
        }

        private void resolve() {
            if (result.isDone()) {
                return;
            }
            try {
                InetAddress[] all = InetAddress.getAllByName(target.host());
                List<InetAddress> permitted = permitted(all);
                loop.execute(() -> connect(permitted, 0, null));
            } catch (UnknownHostException | RuntimeException e) {
                fail(e);
            }
        }

        private List<InetAddress> permitted(InetAddress[] all) {
            List<InetAddress> permitted = new ArrayList<>(all.length);
            for (InetAddress a : all) {
                if (addressFilter.test(a)) {
                    permitted.add(a);
                }
            }
            if (permitted.isEmpty()) {
                fail(new AddressRejectedException("no permitted address for host " + target.host()));
            }
            return permitted;
        }

        /** Runs on {@link #loop}: tries {@code addresses[index..]} one after the other. */
        private void connect(List<InetAddress> addresses, int index, Throwable lastFailure) {
            if (result.isDone()) {
                return;
            }
            if (index >= addresses.size()) {
                fail(lastFailure != null ? lastFailure : new IOException("no address to connect to"));
                return;
            }
            int connectMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE,
                    Math.min(connectTimeout.toMillis(), saturatedNanos(timeout) / 1_000_000)));
            Bootstrap bootstrap = new Bootstrap()
                    .group(loop)
                    .channel(channelType)
                    .resolver(NoopAddressResolverGroup.INSTANCE)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectMillis)
                    .handler(new Initializer());
            ChannelFuture connected = bootstrap.connect(new InetSocketAddress(addresses.get(index), target.port()));
            channel = connected.channel();
            if (result.isDone()) {
                // Completed (timed out, closed) while we were connecting: cleanUp may have missed it.
                connected.channel().close();
                return;
            }
            connected.addListener(f -> {
                if (!f.isSuccess()) {
                    connect(addresses, index + 1, f.cause());
                }
            });
        }

        void fail(Throwable cause) {
            result.completeExceptionally(cause);
        }

        void cleanUp() {
            ScheduledFuture<?> t = timer;
            if (t != null) {
                t.cancel(false);
            }
            Channel ch = channel;
            if (ch != null) {
                ch.close();
            }
        }

        private final class Initializer extends ChannelInitializer<Channel> {
            @Override
            protected void initChannel(Channel ch) {
                ChannelPipeline p = ch.pipeline();
                if (target.tls()) {
                    Supplier<SslContext> own = originSslContexts.get(originKey(target));
                    SslContext context = own == null ? sslContext.get() : own.get();
                    SslHandler tls = context.newHandler(ch.alloc(), target.host(), target.port());
                    SSLEngine engine = tls.engine();
                    SSLParameters params = engine.getSSLParameters();
                    params.setEndpointIdentificationAlgorithm("HTTPS");
                    engine.setSSLParameters(params);
                    tls.handshakeFuture().addListener(f -> {
                        if (!f.isSuccess()) {
                            fail(f.cause());
                        }
                    });
                    p.addLast("tls", tls);
                }
                p.addLast("http", new HttpClientCodec());
                p.addLast("aggregate", new HttpObjectAggregator(maxBytes));
                p.addLast("response", new ResponseHandler());
            }
        }

        /** Last in the pipeline: sends the request once connected, completes with the whole response. */
        private final class ResponseHandler extends SimpleChannelInboundHandler<FullHttpResponse> {

            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                HttpHeaders h = new DefaultHttpHeaders();
                h.set(HttpHeaderNames.HOST, target.hostHeader());
                h.set(HttpHeaderNames.ACCEPT, HttpHeaderValues.APPLICATION_JSON);
                h.set(HttpHeaderNames.USER_AGENT, userAgent);
                try {
                    for (Map.Entry<String, String> e : headers.entrySet()) {
                        h.set(e.getKey(), e.getValue());
                    }
                } catch (IllegalArgumentException e) {
                    fail(e);
                    ctx.close();
                    return;
                }
                // Last, so that no caller header can ask for keep-alive on a connection we drop.
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                        target.requestTarget(), Unpooled.EMPTY_BUFFER, h, EmptyHttpHeaders.INSTANCE);
                ctx.writeAndFlush(request).addListener(f -> {
                    if (!f.isSuccess()) {
                        fail(f.cause());
                    }
                });
                ctx.fireChannelActive();
            }

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse msg) {
                if (msg.decoderResult().isFailure()) {
                    fail(msg.decoderResult().cause());
                    ctx.close();
                    return;
                }
                Map<String, List<String>> hs = new LinkedHashMap<>();
                for (Map.Entry<String, String> e : msg.headers()) {
                    hs.computeIfAbsent(e.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>(1)).add(e.getValue());
                }
                hs.replaceAll((k, v) -> List.copyOf(v));
                byte[] body = ByteBufUtil.getBytes(msg.content());
                result.complete(new Response(msg.status().code(), Collections.unmodifiableMap(hs), body));
                ctx.close();
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                fail(translate(cause));
                ctx.close();
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                fail(new IOException("connection closed before a complete response from " + uri));
                ctx.fireChannelInactive();
            }

            private Throwable translate(Throwable cause) {
                for (Throwable t = cause; t != null; t = t.getCause()) {
                    if (t instanceof TooLongHttpContentException) {
                        return new BodyTooLargeException("response body from " + uri + " exceeds " + maxBytes + " bytes");
                    }
                }
                // DecoderException only says "a handler failed"; its cause says why (TLS, framing).
                if (cause instanceof DecoderException && cause.getCause() != null) {
                    return cause.getCause();
                }
                return cause;
            }
        }
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2;
        }
    }
}
