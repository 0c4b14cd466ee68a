package dev.scopegate.proxy.route;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.ScopeMetrics;
import dev.scopegate.oauth.OAuthParams;
import dev.scopegate.oauth.ParamCodec;
import dev.scopegate.oauth.Params;
import dev.scopegate.oauth.PendingScopes;
import dev.scopegate.oauth.RegistrationDocuments;
import dev.scopegate.store.RegistrationRepository;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The token endpoint (RFC 6749 §3.2), while {@code scope.learn} is on: a form {@code POST} is
 * read for its client (HTTP Basic or {@code client_id}) and PKCE {@code code_verifier}, and a 200
 * JSON answer teaches the client's learned scope — what it asked for at the authorization
 * endpoint ({@link AuthorizeLearningTap}, {@code learn.authorize}) or else what the IdP granted
 * ({@code learn.token}). The token is never delayed for learning. Thread-safe; event loop.
 */
final class TokenLearningRoute implements Route {

    private final Supplier<ScopegateConfig> config;
    private final RegistrationRepository registrations;
    private final PendingScopes pending;
    private final ScopeMetrics metrics;
    private final Clock clock;

    TokenLearningRoute(Supplier<ScopegateConfig> config, RegistrationRepository registrations, PendingScopes pending,
                       ScopeMetrics metrics, Clock clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.registrations = Objects.requireNonNull(registrations, "registrations");
        this.pending = Objects.requireNonNull(pending, "pending");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public Plan plan(HttpRequest request, String path) {
        ScopegateConfig c = config.get();
        ScopegateConfig.Learn learn = c.scope().learn();
        if (!request.method().equals(HttpMethod.POST) || !Http.isForm(request) || !(learn.token() || learn.authorize())) {
            return Plan.FORWARD;
        }
        CodeExchange exchange = new CodeExchange(basicClientId(request.headers().get(HttpHeaderNames.AUTHORIZATION)),
                c.limits().maxCaptureBytes());
        return new Plan.BufferBody(c.limits().maxFormBytes(), exchange, exchange);
    }

    /** The client_id of HTTP Basic client authentication (RFC 6749 §2.3.1: form-encoded then base64). */
    static /* nullable */ String basicClientId(/* nullable */ String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        try {
            String decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
            int colon = decoded.indexOf(':');
            if (colon <= 0) {
                return null;
            }
            return URLDecoder.decode(decoded.substring(0, colon), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** One code exchange: what the request says about the client, then what the answer teaches. */
    private final class CodeExchange implements BodyRewriter, ResponseTap {
        private final int cap;
        /** From HTTP Basic, else the body's single client_id; null: unknown, nothing is learned. */
        private /* nullable */ String clientId;
        /** The PKCE code_verifier of an authorization_code grant. */
        private /* nullable */ String verifier;

        CodeExchange(/* nullable */ String basicClientId, int cap) {
            this.clientId = basicClientId;
            this.cap = cap;
        }

        @Override
        public CompletionStage<Result> onBody(HttpRequest head, ByteBuf body) {
            Params p = ParamCodec.parse(body.toString(StandardCharsets.ISO_8859_1));
            if (clientId == null && p.count(OAuthParams.CLIENT_ID) == 1) {
                clientId = p.first(OAuthParams.CLIENT_ID);
            }
            if ("authorization_code".equals(p.first(OAuthParams.GRANT_TYPE)) && p.count(OAuthParams.CODE_VERIFIER) == 1) {
                verifier = p.first(OAuthParams.CODE_VERIFIER);
            }
            return CompletableFuture.completedFuture(BodyRewriter.UNCHANGED);
        }

        @Override
        public int onHead(HttpResponse head) {
            return clientId != null && head.status().code() == 200 && Http.isJson(head) ? cap : 0;
        }

        @Override
        public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
            // RFC 6749 §5.1: a response without scope granted what was requested
            ScopegateConfig.Learn learn = config.get().scope().learn();
            String requested = learn.authorize() ? pending.confirm(clientId, verifier) : null;
            String granted = learn.token() ? RegistrationDocuments.grantedScope(ByteBufUtil.getBytes(body)) : null;
            // What the client asked for is what a reconnect should ask for again: the granted
            // scope may be narrowed (to a resource's scopes, say) and lose offline_access.
            String scope = requested != null ? requested : granted;
            if (scope != null && !scope.isBlank()) {
                registrations.learn(clientId, scope, clock.instant()).whenComplete((v, e) -> {
                    if (e == null) {
                        metrics.learned("token");
                    }
                });
            }
            return CompletableFuture.completedFuture(null); // never delay a token for learning
        }
    }
}
