package dev.scopegate.proxy.route;

import dev.scopegate.metrics.OutcomeMetrics;
import dev.scopegate.oauth.scope.ScopeDemotions;

import java.util.Objects;

/**
 * What the routes need to read the IdP's answers to the requests they change: meters, the
 * demotions the resolver reads back, and the issuer {@code compat.add-iss} adds.
 */
public record RewriteFeedback(OutcomeMetrics metrics, ScopeDemotions demotions, IssuerOf issuer) {

    /** Meters nobody reads, no demotions, no issuer: for parts built alone (tests). */
    public static RewriteFeedback detached() {
        return new RewriteFeedback(new OutcomeMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()),
                ScopeDemotions.NONE, path -> null);
    }

    public RewriteFeedback {
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(demotions, "demotions");
        Objects.requireNonNull(issuer, "issuer");
    }
}
