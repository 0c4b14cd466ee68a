package dev.scopegate.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.scopegate.config.ConfigView;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.oauth.OAuthParams;
import dev.scopegate.oauth.ParamCodec;
import dev.scopegate.oauth.Params;
import dev.scopegate.oauth.ScopeNormalizer;
import dev.scopegate.oauth.scope.AuthorizationRequest;
import dev.scopegate.proxy.ErrorResponder;
import dev.scopegate.proxy.Transport;
import dev.scopegate.store.RegistrationRepository;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin listener. {@code /metrics}, {@code /healthz} and {@code /readyz} are always open (for
 * Prometheus and orchestrators); {@code /admin/*} ({@code clients/{id}}, {@code explain},
 * {@code config}: the effective config as JSON, secrets redacted by {@link ConfigView}) needs
 * {@code Authorization: Bearer <admin.token>} when a token is configured. {@link #probesOnly}
 * makes the health listener ({@code health.port}) from the same parts: only {@code GET /healthz},
 * {@code /readyz} and {@code /metrics}, no {@code /admin/*}. Handlers never block: store lookups
 * complete on their threads and the answer hops back to the channel.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Set<String> PROBES = Set.of("/healthz", "/readyz", "/metrics");

    /**
     * What readiness means: the proxy listener accepts and is not draining (from SIGTERM on it
     * is), the IdP's metadata was fetched at least once, and — with {@code health.store-required:
     * true} — the store answers. {@code /readyz}'s JSON reports the store either way.
     */
    public record Readiness(BooleanSupplier listening, BooleanSupplier draining, BooleanSupplier metadataReady,
                            Supplier<CompletableFuture<Void>> storePing) {
        public Readiness {
            Objects.requireNonNull(listening, "listening");
            Objects.requireNonNull(draining, "draining");
            Objects.requireNonNull(metadataReady, "metadataReady");
            Objects.requireNonNull(storePing, "storePing");
        }

        /** For an admin listener without a proxy of its own (tests): always listening, never draining. */
        public Readiness(BooleanSupplier metadataReady, Supplier<CompletableFuture<Void>> storePing) {
            this(() -> true, () -> false, metadataReady, storePing);
        }
    }

    private final Transport transport;
    private final String host;
    private final int port;
    private final Supplier<ScopegateConfig> config;
    private final PrometheusMeterRegistry registry;
    private final Readiness readiness;
    private final RegistrationRepository registrations;
    private final ScopeNormalizer normalizer;
    private final boolean probesOnly;
    private Channel channel;

    /**
     * @param config the current config snapshot, read per request ({@code admin.token},
     *               {@code health.store-required})
     */
    public AdminServer(Transport transport, String host, int port, Supplier<ScopegateConfig> config,
                       PrometheusMeterRegistry registry, Readiness readiness,
                       RegistrationRepository registrations, ScopeNormalizer normalizer) {
        this(transport, host, port, config, registry, readiness, registrations, normalizer, false);
    }

    private AdminServer(Transport transport, String host, int port, Supplier<ScopegateConfig> config,
                        PrometheusMeterRegistry registry, Readiness readiness,
                        RegistrationRepository registrations, ScopeNormalizer normalizer, boolean probesOnly) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.host = Objects.requireNonNull(host, "host");
        this.port = port;
        this.config = Objects.requireNonNull(config, "config");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.readiness = Objects.requireNonNull(readiness, "readiness");
        this.registrations = Objects.requireNonNull(registrations, "registrations");
        this.normalizer = Objects.requireNonNull(normalizer, "normalizer");
        this.probesOnly = probesOnly;
    }

    /**
     * A second listener on {@code host:port} ({@code health.host}, {@code health.port}) with this
     * one's probes and metrics and nothing else: {@code GET /healthz}, {@code /readyz} and
     * {@code /metrics}; every other path, {@code /admin/*} included, is 404. Not started.
     */
    public AdminServer probesOnly(String host, int port) {
        return new AdminServer(transport, host, port, config, registry, readiness, registrations, normalizer, true);
    }

    public AdminServer start() throws InterruptedException {
        channel = new ServerBootstrap()
                .group(transport.boss(), transport.workers())
                .channel(transport.serverChannelType())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(4096, 8192, 8192))
                                .addLast(new HttpServerKeepAliveHandler())
                                .addLast(new HttpObjectAggregator(16384))
                                .addLast(new Handler());
                    }
                })
                .bind(new InetSocketAddress(host, port)).sync().channel();
        if (probesOnly) {
            log.info("health listening on {} (/healthz, /readyz, /metrics only)", channel.localAddress());
        } else {
            log.info("admin listening on {}", channel.localAddress());
        }
        return this;
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (!req.decoderResult().isSuccess()) {
                send(ctx, req, ErrorResponder.response(HttpResponseStatus.BAD_REQUEST, "Bad Request"));
                return;
            }
            String uri = req.uri();
            int q = uri.indexOf('?');
            String path = q < 0 ? uri : uri.substring(0, q);
            Params params = ParamCodec.parse(q < 0 ? "" : uri.substring(q + 1));
            HttpMethod m = req.method();
            if (probesOnly && !PROBES.contains(path)) {
                send(ctx, req, ErrorResponder.response(HttpResponseStatus.NOT_FOUND, "Not Found"));
                return;
            }
            if (probesOnly && !m.equals(HttpMethod.GET)) {
                FullHttpResponse r = ErrorResponder.response(HttpResponseStatus.METHOD_NOT_ALLOWED, "Method Not Allowed");
                r.headers().set(HttpHeaderNames.ALLOW, "GET");
                send(ctx, req, r);
                return;
            }
            if (path.equals("/metrics") && m.equals(HttpMethod.GET)) {
                send(ctx, req, text(HttpResponseStatus.OK, registry.scrape(), "text/plain; version=0.0.4; charset=utf-8"));
            } else if (path.equals("/healthz")) {
                send(ctx, req, text(HttpResponseStatus.OK, "ok\n", "text/plain"));
            } else if (path.equals("/readyz")) {
                // Read before the store's answer: a drain that starts meanwhile shows on the next probe.
                boolean draining = readiness.draining().getAsBoolean();
                boolean listening = readiness.listening().getAsBoolean();
                boolean meta = readiness.metadataReady().getAsBoolean();
                boolean storeRequired = config.get().health().storeRequired();
                readiness.storePing().get().handle((v, e) -> e == null).thenAccept(store -> ctx.executor().execute(() -> {
                    boolean ready = !draining && listening && meta && (store || !storeRequired);
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("ready", ready);
                    body.put("draining", draining);
                    body.put("listening", listening);
                    body.put("metadata", meta);
                    body.put("store", store);
                    send(ctx, req, json(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, body));
                }));
                return;
            } else if (path.startsWith("/admin/")) {
                if (!authorized(req)) {
                    FullHttpResponse r = ErrorResponder.response(HttpResponseStatus.UNAUTHORIZED, "Unauthorized");
                    r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"scopegate-admin\"");
                    send(ctx, req, r);
                    return;
                }
                admin(ctx, req, path, params);
                return;
            } else {
                send(ctx, req, ErrorResponder.response(HttpResponseStatus.NOT_FOUND, "Not Found"));
            }
        }

        private void admin(ChannelHandlerContext ctx, FullHttpRequest req, String path, Params params) {
            HttpMethod m = req.method();
            CompletableFuture<FullHttpResponse> answer;
            if (path.equals("/admin/explain") && m.equals(HttpMethod.GET)) {
                String clientId = params.first(OAuthParams.CLIENT_ID);
                if (clientId == null || params.malformed()) {
                    send(ctx, req, ErrorResponder.response(HttpResponseStatus.BAD_REQUEST, "client_id is required"));
                    return;
                }
                AuthorizationRequest ar = new AuthorizationRequest(1, clientId, 0, null,
                        params.first(OAuthParams.REDIRECT_URI), params.first(OAuthParams.RESOURCE),
                        false, false, true, false, null);
                answer = normalizer.explain(ar).thenApply(e -> json(HttpResponseStatus.OK, e));
            } else if (path.equals("/admin/config")) {
                // The snapshot this request reads: a reload in between shows on the next call.
                answer = CompletableFuture.completedFuture(m.equals(HttpMethod.GET)
                        ? json(HttpResponseStatus.OK, ConfigView.of(config.get()))
                        : ErrorResponder.response(HttpResponseStatus.METHOD_NOT_ALLOWED, "Method Not Allowed"));
            } else if (path.startsWith("/admin/clients/") && path.length() > "/admin/clients/".length()) {
                String id = URLDecoder.decode(path.substring("/admin/clients/".length()), StandardCharsets.UTF_8);
                if (m.equals(HttpMethod.GET)) {
                    AuthorizationRequest ar = new AuthorizationRequest(1, id, 0, null, null, null,
                            false, false, true, false, null);
                    answer = registrations.find(id).thenCombine(normalizer.explain(ar), (reg, explain) -> {
                        if (reg.isEmpty()) {
                            return ErrorResponder.response(HttpResponseStatus.NOT_FOUND, "unknown client");
                        }
                        Map<String, Object> body = new LinkedHashMap<>();
                        body.put("registration", view(reg.get()));
                        body.put("resolution", explain);
                        return json(HttpResponseStatus.OK, body);
                    });
                } else if (m.equals(HttpMethod.DELETE)) {
                    answer = registrations.remove(id).thenApply(existed -> existed
                            ? new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT)
                            : ErrorResponder.response(HttpResponseStatus.NOT_FOUND, "unknown client"));
                } else {
                    answer = CompletableFuture.completedFuture(
                            ErrorResponder.response(HttpResponseStatus.METHOD_NOT_ALLOWED, "Method Not Allowed"));
                }
            } else {
                answer = CompletableFuture.completedFuture(ErrorResponder.response(HttpResponseStatus.NOT_FOUND, "Not Found"));
            }
            req.retain();
            answer.whenComplete((r, e) -> ctx.executor().execute(() -> {
                if (e != null) {
                    log.warn("admin request failed: {}", e.toString());
                    send(ctx, req, ErrorResponder.response(HttpResponseStatus.INTERNAL_SERVER_ERROR, "Internal Server Error"));
                } else {
                    send(ctx, req, r);
                }
                req.release();
            }));
        }

        private boolean authorized(FullHttpRequest req) {
            String expected = config.get().admin().token();
            if (expected == null || expected.isEmpty()) {
                return true;
            }
            String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
            if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
                return false;
            }
            return MessageDigest.isEqual(auth.substring(7).trim().getBytes(StandardCharsets.UTF_8),
                    expected.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The stored registration as JSON-friendly values (no secret is ever stored). */
    private static Map<String, Object> view(dev.scopegate.model.Registration r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("client_id", r.clientId());
        m.put("scope", r.scope());
        m.put("redirect_uris", r.redirectUris());
        m.put("grant_types", r.grantTypes());
        m.put("client_name", r.clientName());
        m.put("registration_client_uri", r.registrationClientUri());
        m.put("learned_scope", r.learnedScope());
        m.put("created_at", r.createdAt().toString());
        m.put("updated_at", r.updatedAt().toString());
        return m;
    }

    private static void send(ChannelHandlerContext ctx, FullHttpRequest req, FullHttpResponse resp) {
        resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
        HttpUtil.setKeepAlive(resp, HttpUtil.isKeepAlive(req));
        ctx.writeAndFlush(resp);
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body, String type) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
        return r;
    }

    private static FullHttpResponse json(HttpResponseStatus status, Object body) {
        try {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.wrappedBuffer(JSON.writeValueAsBytes(body)));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            return r;
        } catch (Exception e) {
            return ErrorResponder.response(HttpResponseStatus.INTERNAL_SERVER_ERROR, "cannot render JSON");
        }
    }
}
