package dev.scopegate.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A cheap, deterministic stand-in for a legacy OAuth 2.0 authorization server, for load tests and
 * for trying scopegate out. Every answer is computed from the request alone (plus a registration
 * counter), so a load run measures the proxy in front of it, not the simulator.
 *
 * <table>
 *   <caption>Endpoints</caption>
 *   <tr><td>{@code GET /.well-known/oauth-authorization-server}, {@code /.well-known/openid-configuration}</td>
 *       <td>RFC 8414 metadata naming the endpoints below and {@link #SCOPES_SUPPORTED}</td></tr>
 *   <tr><td>{@code POST /oauth/register}</td><td>RFC 7591: 201 JSON, {@code client_id} {@code sim-N}, the
 *       request's {@code scope}, {@code redirect_uris} and {@code client_name} echoed, plus a secret</td></tr>
 *   <tr><td>{@code GET|POST /oauth/authorize}</td><td>like the seed's legacy IdP: 400 JSON without
 *       {@code scope}; else 302 to {@code redirect_uri} with a code and {@code state}. Always echoes
 *       the raw query (or form body) it received in the {@value #ECHO_HEADER} header, so a load
 *       generator can check every rewrite</td></tr>
 *   <tr><td>{@code POST /oauth/token}</td><td>200 JSON bearer token with a scope</td></tr>
 *   <tr><td>{@code GET /sse?n=N&ms=M}</td><td>{@code text/event-stream}: N events (default 5), M ms apart
 *       (default 0), then the stream ends</td></tr>
 *   <tr><td>anything else</td><td>200 small JSON (a POST's body length is echoed in {@code X-Body-Length})</td></tr>
 * </table>
 *
 * <p>Usage: {@code java -cp loadtest/target/benchmarks.jar dev.scopegate.loadtest.IdpSimulator
 * [--host 127.0.0.1] [--port 8081] [--threads 1]}. Thread-safe; one instance serves until
 * {@link #close()}.
 */
public final class IdpSimulator implements AutoCloseable {

    /** Response header carrying the raw query (GET) or form body (POST) an authorize request arrived with. */
    public static final String ECHO_HEADER = "x-idp-query";
    public static final String SCOPES_SUPPORTED =
            "[\"openid\",\"worker:read\",\"time-off:read\",\"time-off:write\",\"contracts:read\",\"people:read\",\"offline_access\"]";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] GENERIC = "{\"ok\":true,\"service\":\"idp-simulator\",\"items\":[1,2,3]}"
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TOKEN = ("{\"access_token\":\"sim-access-token\",\"token_type\":\"Bearer\","
            + "\"expires_in\":3600,\"refresh_token\":\"sim-refresh-token\",\"scope\":\"worker:read\"}")
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SCOPE_REQUIRED =
            "{\"error\":\"invalid_request\",\"error_description\":\"scope is required\"}".getBytes(StandardCharsets.US_ASCII);

    private final EventLoopGroup group;
    private final Channel server;
    private final AtomicLong registrations = new AtomicLong();
    private volatile byte[] metadata;

    private IdpSimulator(String host, int port, int threads) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("idp-sim", true), io);
        Class<? extends ServerSocketChannel> type = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ChannelFuture bound = new ServerBootstrap()
                .group(group)
                .channel(type)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast("http", new HttpServerCodec())
                                .addLast("keep-alive", new HttpServerKeepAliveHandler())
                                .addLast("aggregate", new HttpObjectAggregator(1 << 20))
                                .addLast("idp", new Handler());
                    }
                })
                .bind(new InetSocketAddress(host, port)).sync();
        server = bound.channel();
        metadata = metadataFor("http://" + host + ":" + port());
    }

    /** Starts a simulator on {@code host:port} (port 0 picks a free one) with {@code threads} event loops. */
    public static IdpSimulator start(String host, int port, int threads) throws InterruptedException {
        return new IdpSimulator(Objects.requireNonNull(host, "host"), port, threads);
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Registrations answered so far. */
    public long registrations() {
        return registrations.get();
    }

    /** The issuer (and endpoint origin) the metadata names; defaults to {@code http://host:port}. */
    public void issuer(String issuer) {
        metadata = metadataFor(Objects.requireNonNull(issuer, "issuer"));
    }

    private static byte[] metadataFor(String issuer) {
        return ("{\"issuer\":\"" + issuer + "\",\"authorization_endpoint\":\"" + issuer + "/oauth/authorize\","
                + "\"token_endpoint\":\"" + issuer + "/oauth/token\",\"registration_endpoint\":\"" + issuer
                + "/oauth/register\",\"scopes_supported\":" + SCOPES_SUPPORTED + ",\"response_types_supported\":[\"code\"],"
                + "\"grant_types_supported\":[\"authorization_code\",\"refresh_token\"],"
                + "\"code_challenge_methods_supported\":[\"S256\"],"
                + "\"token_endpoint_auth_methods_supported\":[\"client_secret_basic\",\"none\"]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One per connection; event-loop confined. */
    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (!req.decoderResult().isSuccess()) {
                ctx.writeAndFlush(json(HttpResponseStatus.BAD_REQUEST, SCOPE_REQUIRED)).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            String uri = req.uri();
            int q = uri.indexOf('?');
            String path = q < 0 ? uri : uri.substring(0, q);
            String query = q < 0 ? "" : uri.substring(q + 1);
            HttpMethod method = req.method();
            if (path.startsWith("/.well-known/oauth-authorization-server")
                    || path.equals("/.well-known/openid-configuration")) {
                reply(ctx, req, json(HttpResponseStatus.OK, metadata));
                return;
            }
            switch (path) {
                case "/oauth/authorize" -> reply(ctx, req, authorize(method.equals(HttpMethod.POST)
                        ? req.content().toString(StandardCharsets.ISO_8859_1) : query));
                case "/oauth/register" -> reply(ctx, req, method.equals(HttpMethod.POST)
                        ? register(req) : json(HttpResponseStatus.METHOD_NOT_ALLOWED, SCOPE_REQUIRED));
                case "/oauth/token" -> reply(ctx, req, json(HttpResponseStatus.OK, TOKEN));
                case "/sse" -> sse(ctx, req, query);
                default -> {
                    FullHttpResponse r = json(HttpResponseStatus.OK, GENERIC);
                    if (req.content().isReadable()) {
                        r.headers().set("x-body-length", req.content().readableBytes());
                    }
                    reply(ctx, req, r);
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static void reply(ChannelHandlerContext ctx, FullHttpRequest req, FullHttpResponse resp) {
        HttpUtil.setKeepAlive(resp, HttpUtil.isKeepAlive(req));
        ctx.writeAndFlush(resp);
    }

    private static FullHttpResponse json(HttpResponseStatus status, byte[] body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return r;
    }

    /** A legacy IdP: no scope, no redirect; otherwise a 302 with a code derived from the state. */
    static FullHttpResponse authorize(String params) {
        String scope = param(params, "scope");
        FullHttpResponse r;
        if (scope == null || scope.isBlank()) {
            r = json(HttpResponseStatus.BAD_REQUEST, SCOPE_REQUIRED);
        } else {
            String redirect = param(params, "redirect_uri");
            String state = param(params, "state");
            r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FOUND, Unpooled.EMPTY_BUFFER);
            StringBuilder location = new StringBuilder(redirect == null ? "/callback" : redirect);
            location.append(location.indexOf("?") < 0 ? '?' : '&').append("code=sim-code-")
                    .append(state == null ? 0 : Integer.toHexString(state.hashCode()));
            if (state != null) {
                location.append("&state=").append(rawParam(params, "state"));
            }
            r.headers().set(HttpHeaderNames.LOCATION, location.toString()).setInt(HttpHeaderNames.CONTENT_LENGTH, 0)
                    .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        }
        r.headers().set(ECHO_HEADER, params);
        return r;
    }

    private FullHttpResponse register(FullHttpRequest req) {
        JsonNode body;
        try {
            body = JSON.readTree(req.content().toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            body = null;
        }
        if (body == null || !body.isObject()) {
            return json(HttpResponseStatus.BAD_REQUEST,
                    "{\"error\":\"invalid_client_metadata\"}".getBytes(StandardCharsets.US_ASCII));
        }
        long n = registrations.incrementAndGet();
        String id = "sim-" + n;
        ObjectNode out = JSON.createObjectNode();
        out.put("client_id", id);
        out.put("client_secret", "sim-secret-" + n);
        out.put("client_id_issued_at", 1_700_000_000L + n);
        out.put("client_secret_expires_at", 0);
        out.put("registration_access_token", "sim-rat-" + n);
        out.put("registration_client_uri", "http://idp.invalid/oauth/register/" + id);
        for (String field : new String[]{"redirect_uris", "client_name", "scope", "grant_types", "token_endpoint_auth_method"}) {
            if (body.has(field)) {
                out.set(field, body.get(field));
            }
        }
        try {
            return json(HttpResponseStatus.CREATED, JSON.writeValueAsBytes(out));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Server-sent events: {@code n} events {@code ms} apart, then the end of the stream. */
    private static void sse(ChannelHandlerContext ctx, FullHttpRequest req, String query) {
        int n = intParam(query, "n", 5);
        long ms = intParam(query, "ms", 0);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        ctx.writeAndFlush(head);
        sendEvent(ctx, 0, n, ms, keepAlive);
    }

    private static void sendEvent(ChannelHandlerContext ctx, int i, int n, long ms, boolean keepAlive) {
        if (!ctx.channel().isActive()) {
            return;
        }
        if (i >= n) {
            ChannelFuture f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
            return;
        }
        ByteBuf event = Unpooled.copiedBuffer("id: " + i + "\nevent: tick\ndata: {\"n\":" + i + "}\n\n", StandardCharsets.US_ASCII);
        ctx.writeAndFlush(new DefaultHttpContent(event));
        if (ms <= 0) {
            ctx.executor().execute(() -> sendEvent(ctx, i + 1, n, ms, keepAlive));
        } else {
            ctx.executor().schedule(() -> sendEvent(ctx, i + 1, n, ms, keepAlive), ms, TimeUnit.MILLISECONDS);
        }
    }

    /** The decoded value of the first {@code name} parameter of a query or form, or null. */
    static String param(String params, String name) {
        String raw = rawParam(params, name);
        if (raw == null) {
            return null;
        }
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return raw;
        }
    }

    private static String rawParam(String params, String name) {
        int start = 0;
        int len = params.length();
        while (start <= len) {
            int end = params.indexOf('&', start);
            if (end < 0) {
                end = len;
            }
            if (params.startsWith(name, start)) {
                int after = start + name.length();
                if (after == end) {
                    return "";
                }
                if (params.charAt(after) == '=') {
                    return params.substring(after + 1, end);
                }
            }
            start = end + 1;
        }
        return null;
    }

    private static int intParam(String query, String name, int fallback) {
        String v = param(query, name);
        if (v == null) {
            return fallback;
        }
        try {
            return Math.max(0, Math.min(Integer.parseInt(v), 100_000));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 8081;
        int threads = 1;
        String issuer = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--host" -> host = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--issuer" -> issuer = args[++i];
                default -> {
                    System.err.println("usage: IdpSimulator [--host 127.0.0.1] [--port 8081] [--threads 1] [--issuer URL]");
                    System.exit(64);
                }
            }
        }
        IdpSimulator sim = start(host, port, threads);
        if (issuer != null) {
            sim.issuer(issuer);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(sim::close, "idp-sim-shutdown"));
        System.out.println("idp-simulator listening on http://" + host + ":" + sim.port());
        Thread.currentThread().join();
    }
}
