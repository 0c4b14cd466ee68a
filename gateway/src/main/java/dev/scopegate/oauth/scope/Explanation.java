package dev.scopegate.oauth.scope;

import dev.scopegate.config.ScopegateConfig.Source;

import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Why {@link ScopeResolver} decides what it decides, for {@code /admin/explain}: every configured
 * source in order, its raw candidate, what the policy cut and why, and the final decision. Plain
 * records, lists, strings and enums, so Jackson serializes it to readable JSON as is. Immutable;
 * safe to share across threads.
 *
 * @param clientId    the request's {@code client_id}
 * @param redirectUri the request's {@code redirect_uri}, nullable
 * @param resource    the request's {@code resource}, nullable
 * @param family      the client family of {@code redirectUri} ({@link ClientFamilies#OTHER} if none)
 * @param chain       one step per configured source, in order; every source is evaluated, even
 *                    those {@link ScopeResolver#decide} would not reach ({@link Step#reached()} says which)
 * @param winner      the source of an {@link Decision.AddScope}, else null
 * @param scope       the scope of an {@link Decision.AddScope}, else null
 * @param outcome     the decision's kind: {@code AddScope}, {@code Unresolved}, {@code NeedFacts} …
 * @param decision    exactly what {@link ScopeResolver#decide} returns for the same input
 */
public record Explanation(
        String clientId,
        String redirectUri,
        String resource,
        String family,
        List<Step> chain,
        Source winner,
        String scope,
        String outcome,
        Decision decision) {

    public Explanation {
        chain = List.copyOf(chain);
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(decision, "decision");
    }

    /** What one source yields for the request. */
    public enum Status {
        /** Its result is the decision's scope. */
        WON,
        /** It yields a non-empty result, but the decision was settled before it (or the request is not rewritten). */
        YIELDS,
        /** It has a candidate but the policy cut every scope of it. */
        EMPTY_AFTER_POLICY,
        /** It has nothing for this client. */
        NO_CANDIDATE,
        /** It does not apply: {@code document} for a non-https {@code client_id}, {@code resource} without {@code resource}. */
        NOT_APPLICABLE,
        /**
         * Its result is demoted: the IdP rejected exactly this scope for this client with
         * {@code invalid_scope} ({@link ScopeDemotions}); the chain goes on past it.
         */
        DEMOTED,
        /** It needs facts that were not looked up ({@link Step#missingFacts()}). */
        FACT_MISSING
    }

    /** Why the policy dropped a scope. */
    public enum CutReason {
        /** Not an RFC 6749 §3.3 scope-token (control, non-ASCII, {@code "} or {@code \} characters). */
        INVALID,
        /** Already accepted earlier in the same candidate. */
        DUPLICATE,
        /** Matches a {@code scope.deny} entry ({@link Cut#rule()}). */
        DENIED,
        /** Not in the IdP's {@code scopes_supported} ({@code scope.only-supported}). */
        UNSUPPORTED
    }

    /**
     * One source's evaluation.
     *
     * @param source       the source
     * @param status       what it yields
     * @param reached      whether {@link ScopeResolver#decide} gets to it for this request
     * @param candidate    the raw candidate before the policy, nullable
     * @param cuts         what the policy dropped, in order
     * @param result       the candidate after the policy, null when empty or no candidate
     * @param missingFacts the facts it needs that were not looked up (empty unless {@code FACT_MISSING})
     */
    public record Step(Source source, Status status, boolean reached, String candidate, List<Cut> cuts,
                       String result, Set<Fact> missingFacts) {
        public Step {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(status, "status");
            cuts = List.copyOf(cuts);
            missingFacts = missingFacts.isEmpty() ? Set.of()
                    : Collections.unmodifiableSet(EnumSet.copyOf(missingFacts));
        }
    }

    /**
     * One dropped scope.
     *
     * @param scope  the token as it appeared in the candidate
     * @param reason why it was dropped
     * @param rule   the {@code scope.deny} entry that matched, for {@link CutReason#DENIED}; else null
     */
    public record Cut(String scope, CutReason reason, String rule) {
        public Cut {
            Objects.requireNonNull(scope, "scope");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
