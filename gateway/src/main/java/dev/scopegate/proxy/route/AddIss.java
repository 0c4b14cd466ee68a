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
 *   <li>going to a {@code redirect_uri} named by an authorization or PAR request in the last
 *       {@link #PENDING_FOR} (each request naming it restarts that time; at most
 *       {@link #PENDING_MAX} remembered), whether it answers the authorization endpoint or another
 *       IdP path (the login and consent pages that resume the request, e.g. oidc-provider's
 *       {@code /auth/<uid>}). scopegate's own error redirect needs no such record.</li>
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
            // written at every request, so a redirect_uri in use never expires between two of them
            pending.put(AuthorizationResponses.target(redirectUri), redirectUri);
        }
    }

    /** The tap of a request to the authorization endpoint at {@code path}, after {@code inner} (nullable). */
    ResponseTap atAuthorizationEndpoint(String path, /* nullable */ ResponseTap inner) {
        // the IdP's own redirects (to its login page, to a broker) are not authorization responses:
        // here too only one to a redirect_uri an authorization or PAR request named gets iss
        return ResponseTaps.both(inner, new Tap(this, path, false));
    }

    /** The tap of a request to another IdP path. */
    ResponseTap elsewhere(String path) {
        return new Tap(this, path, false);
    }

    /**
     * Adds {@code iss} to {@code head}'s {@code Location} when the rule (see the class) holds.
     *
     * @param ownReply scopegate's own answer at the authorization endpoint (its error redirect to
     *     the client's registered redirect_uri): no remembered redirect_uri needed
     */
    void amend(HttpResponse head, String path, boolean ownReply) {
        int status = head.status().code();
        if (status < 300 || status >= 400) {
            return;
        }
        String location = head.headers().get(HttpHeaderNames.LOCATION);
        if (location == null || !AuthorizationResponses.isResponse(location)) {
            return;
        }
        if (!ownReply) {
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

    private record Tap(AddIss owner, String path, boolean ownReply) implements ResponseTap {
        @Override
        public int onHead(HttpResponse head) {
            owner.amend(head, path, ownReply);
            return 0;
        }

        @Override
        public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
            return CompletableFuture.completedFuture(null);
        }
    }
}
