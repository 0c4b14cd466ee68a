package dev.scopegate.oauth.scope;

import dev.scopegate.config.ScopegateConfig.Source;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * What {@link ScopeResolver#decide} concluded for one authorization request. Immutable records;
 * safe to share across threads. The caller acts on them:
 * <ul>
 *   <li>{@link Unchanged}, {@link Skip}: forward unchanged (count {@code Skip} by reason);</li>
 *   <li>{@link AddScope}: append {@code scope} (and {@code prompt} when the request has none)
 *       unless {@code dryRun};</li>
 *   <li>{@link Unresolved}: forward unchanged when {@code rejection} is null or {@code dryRun},
 *       else answer with the rejection;</li>
 *   <li>{@link AddAlways}: append {@code added} to the request's own {@code scope} value (and
 *       {@code prompt} when the request has none) unless {@code dryRun};</li>
 *   <li>{@link NeedFacts}: fetch the named facts, add them to the {@link Facts}, decide again.</li>
 * </ul>
 * {@link Pending} is never the resolver's: {@code ScopeNormalizer.decideNow} answers it while it
 * fetches those facts itself.
 */
public sealed interface Decision
        permits Decision.Unchanged, Decision.Skip, Decision.AddScope, Decision.Unresolved, Decision.NeedFacts,
        Decision.Pending, Decision.AddAlways {

    /** Why the trigger does not hold. */
    enum Reason {
        /** {@code scope} is present with a non-blank value. */
        SCOPE_PRESENT,
        /** {@code scope} is present but blank, and the trigger is {@code missing}. */
        SCOPE_EMPTY
    }

    /** Why a request is never rewritten (DESIGN §3 "never rewrite"). */
    enum SkipReason {
        /** The parameters could not be parsed reliably; checked first since counts are then untrustworthy. */
        MALFORMED,
        CLIENT_ID_MISSING,
        CLIENT_ID_REPEATED,
        /** RFC 6749 §3.1 forbids repeats: the IdP rejects it, not us. */
        SCOPE_REPEATED,
        /** A JAR {@code request} object is signed: its parameters are not ours to change. */
        REQUEST_OBJECT,
        /** PAR already normalized the pushed request. */
        REQUEST_URI_ON_GET
    }

    /** The trigger does not hold: forward unchanged. */
    record Unchanged(Reason reason) implements Decision {
        public Unchanged {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** A never-rewrite case: forward unchanged and count the reason. */
    record Skip(SkipReason reason) implements Decision {
        public Skip {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * Append {@code scope} (space-separated tokens after the policy; never empty) found by
     * {@code source}, and {@code prompt} (nullable, see {@link PromptPolicy}) when the request
     * names no {@code prompt}. When {@code dryRun}, log and count it but forward unchanged.
     */
    record AddScope(String scope, Source source, boolean dryRun, /* nullable */ String prompt) implements Decision {
        public AddScope {
            Objects.requireNonNull(scope, "scope");
            Objects.requireNonNull(source, "source");
        }
    }

    /**
     * {@code scope.add-always}: the request carries a scope of its own that lacks {@code added}
     * (space-separated tokens after the policy; never empty). Its value is extended in place to
     * {@code scope} (the request's value, a space, {@code added}); {@code prompt} as in
     * {@link AddScope}. When {@code dryRun}, log and count it but forward unchanged.
     */
    record AddAlways(String added, String scope, boolean dryRun, /* nullable */ String prompt) implements Decision {
        public AddAlways {
            Objects.requireNonNull(added, "added");
            Objects.requireNonNull(scope, "scope");
        }
    }

    /**
     * No source yielded a scope. {@code rejection} is null with {@code on-unresolved: forward};
     * when {@code dryRun}, the rejection is only to be logged and the request forwarded unchanged.
     */
    record Unresolved(Rejection rejection, boolean dryRun) implements Decision {}

    /** The chain cannot go on without these facts (never empty): fetch them all, then decide again. */
    record NeedFacts(Set<Fact> facts) implements Decision {
        public NeedFacts {
            if (facts.isEmpty()) {
                throw new IllegalArgumentException("no facts");
            }
            // EnumSet: a stable, readable order in logs and JSON
            facts = Collections.unmodifiableSet(EnumSet.copyOf(facts));
        }
    }

    /**
     * The facts are being fetched ({@code ScopeNormalizer.decideNow} only, never the resolver):
     * {@code decision} completes with one of the other kinds, on any thread.
     */
    record Pending(CompletableFuture<Decision> decision) implements Decision {
        public Pending {
            Objects.requireNonNull(decision, "decision");
        }
    }
}
