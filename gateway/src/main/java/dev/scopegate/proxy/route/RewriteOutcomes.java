package dev.scopegate.proxy.route;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scopegate.config.ScopegateConfig.Source;
import dev.scopegate.metrics.OutcomeMetrics;
import dev.scopegate.oauth.AuditLog;
import dev.scopegate.oauth.AuthorizationParams;
import dev.scopegate.oauth.OAuthParams;
import dev.scopegate.oauth.scope.RewriteOutcome;
import dev.scopegate.oauth.scope.ScopeDemotions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Reads the IdP's answer to each authorization or PAR request scopegate added a scope to
 * ({@link RewriteOutcome}), counts it, and demotes the added scope when the IdP rejected exactly
 * it with {@code invalid_scope} ({@link ScopeDemotions}), with an audit line. Thread-safe; its taps
 * run on event loops.
 */
final class RewriteOutcomes {

    /** A PAR error body is small JSON (RFC 9126 §2.3); more than this is not read. */
    static final int PAR_ERROR_CAP = 8192;
    /** The {@code source} label of a request extended by {@code scope.add-always}. */
    static final String ADD_ALWAYS = "add-always";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final OutcomeMetrics metrics;
    private final ScopeDemotions demotions;
    private final AuditLog audit;

    RewriteOutcomes(OutcomeMetrics metrics, ScopeDemotions demotions, AuditLog audit) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.demotions = Objects.requireNonNull(demotions, "demotions");
        this.audit = Objects.requireNonNull(audit, "audit");
    }

    /**
     * The tap of one rewritten request.
     *
     * @param scope       exactly the scope added (what a demotion is keyed by)
     * @param redirectUri the request's {@code redirect_uri}, nullable
     * @param params      the request's parameters are {@code params[paramsFrom, params.length())}; its
     *                    {@code state} is read from them only for an error redirect (rare)
     */
    ResponseTap tap(RouteKind kind, String clientId, Source source, String sourceLabel, String family, String scope,
                    /* nullable */ String redirectUri, String params, int paramsFrom) {
        return new Tap(this, kind, clientId, source, sourceLabel, family, scope, redirectUri, params, paramsFrom);
    }

    void addAlways(String family) {
        metrics.addAlways(family);
    }

    void record(Tap t, RewriteOutcome o) {
        metrics.outcome(t.sourceLabel(), t.family(), o.error());
        if (o.mayDemote() && demotions.demote(t.clientId(), t.source(), t.scope())) {
            metrics.demoted(t.sourceLabel());
            audit.demoted(t.clientId(), t.family(), t.sourceLabel(), t.scope(), t.kind().label());
        }
    }

    /** The {@code error} member of a JSON object body, or null. */
    static /* nullable */ String jsonError(ByteBuf body) {
        try {
            JsonNode node = JSON.readTree(new ByteBufInputStream(body.duplicate()));
            JsonNode error = node == null ? null : node.get(OAuthParams.ERROR);
            return error != null && error.isTextual() ? error.asText() : null;
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    record Tap(RewriteOutcomes outcomes, RouteKind kind, String clientId, Source source, String sourceLabel,
               String family, String scope, String redirectUri, String params, int paramsFrom)
            implements ResponseTap {

        /** The request's {@code state}, or null. */
        String state() {
            return AuthorizationParams.first(params, paramsFrom, params.length(), OAuthParams.STATE);
        }

        @Override
        public int onHead(HttpResponse head) {
            int status = head.status().code();
            if (kind == RouteKind.PAR) {
                if (status >= 200 && status < 300) {
                    outcomes.record(this, RewriteOutcome.ACCEPTED);
                    return 0;
                }
                return PAR_ERROR_CAP; // read the error body first
            }
            String location = head.headers().get(HttpHeaderNames.LOCATION);
            outcomes.record(this, RewriteOutcome.isErrorRedirect(status, location)
                    ? RewriteOutcome.ofAuthorization(status, location, redirectUri, state())
                    : RewriteOutcome.ACCEPTED);
            return 0;
        }

        @Override
        public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
            outcomes.record(this, RewriteOutcome.ofPar(head.status().code(), jsonError(body)));
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void onOverCap(HttpResponse head) {
            outcomes.record(this, RewriteOutcome.ofPar(head.status().code(), null));
        }
    }
}
