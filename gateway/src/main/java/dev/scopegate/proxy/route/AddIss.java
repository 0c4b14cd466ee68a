package dev.scopegate.proxy.route;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.metrics.OutcomeMetrics;
import dev.scopegate.oauth.AuthorizationResponses;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code compat.add-iss}: adds {@code iss} (RFC 9207) to the IdP's authorization responses that
 * lack it. An authorization response is recognised by this rule:
 * <ol>
 *   <li>a {@code 3xx} whose {@code Location} carries {@code code} or {@code error} in its query, or
 *       in its fragment (response mode {@code fragment});</li>
 *   <li>answering a request to the authorization endpoint, or to any other IdP path (the IdP's
 *       login and consent pages that resume the request, e.g. oidc-provider's
 *       {@code /auth/<uid>}) when the {@code Location} goes to a {@code redirect_uri} named by an
 *       authorization or PAR request in the last {@link #PENDING_FOR} (at most
 *       {@link #PENDING_MAX} remembered).</li>
 * </ol>
 * {@code iss} goes where the other parameters are; every other byte of {@code Location} is kept.
 * A {@code form_post} response (an HTML page that posts to the client) is left alone.
 * Thread-safe; taps run on event loops.
 */
final class AddIss {

    static final Duration PENDING_FOR = Duration.ofMinutes(30);
    static final long PENDING_MAX = 10_000;

    private final IssuerOf issuer;
    private final OutcomeMetrics metrics;
    /** Redirect URIs of recent authorization requests, by their part before any query. */
    private final Cache<String, String> pending;

    AddIss(IssuerOf issuer, OutcomeMetrics metrics, Ticker ticker) {
        this.issuer = Objects.requireNonNull(issuer, "issuer");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.pending = Caffeine.newBuilder().ticker(ticker).maximumSize(PENDING_MAX).expireAfterWrite(PENDING_FOR)
                .executor(Runnable::run).build();
    }

    /** An authorization or PAR request named {@code redirectUri} (nullable): its answer may come from elsewhere. */
    void remember(/* nullable */ String redirectUri) {
        if (redirectUri != null && !redirectUri.isEmpty()) {
            String key = AuthorizationResponses.target(redirectUri);
            if (!redirectUri.equals(pending.getIfPresent(key))) {
                pending.put(key, redirectUri);
            }
        }
    }

    /** The tap of a request to the authorization endpoint at {@code path}, after {@code inner} (nullable). */
    ResponseTap atAuthorizationEndpoint(String path, /* nullable */ ResponseTap inner) {
        return ResponseTaps.both(inner, new Tap(this, path, true));
    }

    /** The tap of a request to another IdP path. */
    ResponseTap elsewhere(String path) {
        return new Tap(this, path, false);
    }

    /** Adds {@code iss} to {@code head}'s {@code Location} when the rule (see the class) holds. */
    void amend(HttpResponse head, String path, boolean authorizationEndpoint) {
        int status = head.status().code();
        if (status < 300 || status >= 400) {
            return;
        }
        String location = head.headers().get(HttpHeaderNames.LOCATION);
        if (location == null || !AuthorizationResponses.isResponse(location)) {
            return;
        }
        if (!authorizationEndpoint) {
            String known = pending.getIfPresent(AuthorizationResponses.target(location));
            if (!AuthorizationResponses.targets(location, known)) {
                return;
            }
        }
        String amended = AuthorizationResponses.withIss(location, issuer.issuerFor(path));
        if (amended != null) {
            head.headers().set(HttpHeaderNames.LOCATION, amended);
            metrics.issAdded();
        }
    }

    private record Tap(AddIss owner, String path, boolean authorizationEndpoint) implements ResponseTap {
        @Override
        public int onHead(HttpResponse head) {
            owner.amend(head, path, authorizationEndpoint);
            return 0;
        }

        @Override
        public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
            return CompletableFuture.completedFuture(null);
        }
    }
}
