package dev.scopegate.oauth;

import dev.scopegate.model.Registration;
import dev.scopegate.oauth.document.ClientDocument;
import dev.scopegate.oauth.document.ClientIdMetadataDocuments;
import dev.scopegate.oauth.document.ResourceMetadataCache;
import dev.scopegate.oauth.metadata.ServerMetadata;
import dev.scopegate.oauth.scope.AuthorizationRequest;
import dev.scopegate.oauth.scope.Decision;
import dev.scopegate.oauth.scope.Explanation;
import dev.scopegate.oauth.scope.Fact;
import dev.scopegate.oauth.scope.Facts;
import dev.scopegate.oauth.scope.ScopeResolver;
import dev.scopegate.store.RegistrationRepository;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs the {@link ScopeResolver} and gathers the facts it asks for: registrations from the
 * repository (memory first), protected-resource metadata and client ID metadata documents.
 * A request whose facts are all in memory is decided on the calling thread ({@link #decideNow}
 * returns the decision itself; the future of {@link #decide} is already done), so the caller can
 * skip any thread hop.
 *
 * <p>Thread-safe; futures may complete on store or fetcher threads.
 */
public final class ScopeNormalizer {

    private static final int MAX_ROUNDS = 4;
    private static final Set<Fact> REGISTRATION_ONLY = EnumSet.of(Fact.REGISTRATION);
    /** In the order lookups have always been made (an {@code EnumSet}'s). */
    private static final Fact[] FACTS = Fact.values();

    private final Supplier<ScopeResolver> resolver;
    private final RegistrationRepository registrations;
    private final Supplier<ServerMetadata> metadata;
    private final ResourceMetadataCache resources;
    private final ClientIdMetadataDocuments documents;
    private volatile ServerFacts serverFacts;
    /**
     * The facts of recent clients, per (server facts, registration): every request of a cached
     * client reuses one instance instead of building it. Direct-mapped by client_id, racy by
     * design (entries are immutable): a race or a collision only costs building it again.
     */
    private final WithRegistration[] withRegistration = new WithRegistration[1024];
    /** The server facts of learned issuers' documents (metadata.issuers), as {@link #serverFacts} is the configured one's. */
    private final ServerFacts[] learnedServerFacts = new ServerFacts[64];

    public ScopeNormalizer(Supplier<ScopeResolver> resolver, RegistrationRepository registrations,
                           Supplier<ServerMetadata> metadata, ResourceMetadataCache resources,
                           ClientIdMetadataDocuments documents) {
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.registrations = Objects.requireNonNull(registrations, "registrations");
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.resources = Objects.requireNonNull(resources, "resources");
        this.documents = Objects.requireNonNull(documents, "documents");
    }

    /** The decision for {@code request}, once every fact it needs has been gathered. */
    public CompletableFuture<Decision> decide(AuthorizationRequest request) {
        return decide(request, resolver.get());
    }

    /** {@link #decide} by {@code r}: the resolver whose {@link ScopeResolver#readsState} shaped the request. */
    public CompletableFuture<Decision> decide(AuthorizationRequest request, ScopeResolver r) {
        return decide(request, r, null);
    }

    /**
     * {@link #decide(AuthorizationRequest, ScopeResolver)} for a request to an endpoint of
     * {@code server} (a learned issuer's metadata; null: the configured issuer's).
     */
    public CompletableFuture<Decision> decide(AuthorizationRequest request, ScopeResolver r,
                                              /* nullable */ ServerMetadata server) {
        Decision d = decideNow(request, r, server);
        return d instanceof Decision.Pending p ? p.decision() : CompletableFuture.completedFuture(d);
    }

    /**
     * The resolver of the current config. A caller that reads the request according to its
     * {@link ScopeResolver#readsState} passes this same instance to {@link #decideNow(AuthorizationRequest, ScopeResolver)},
     * so a reload in between cannot decide with a resolver that wants what was not read.
     */
    public ScopeResolver resolver() {
        return resolver.get();
    }

    /**
     * {@link #decide} for a caller on an event loop: when every fact the decision needs is in
     * memory (the usual case: the registration is cached), the decision itself, made on the
     * calling thread without a future; otherwise a {@link Decision.Pending} whose future
     * completes once the missing facts are fetched (facts found in memory are not looked up
     * twice, so cache statistics count what {@link #decide} always counted).
     */
    public Decision decideNow(AuthorizationRequest request) {
        return decideNow(request, resolver.get());
    }

    /** {@link #decideNow(AuthorizationRequest)} by {@code r} (see {@link #resolver()}). */
    public Decision decideNow(AuthorizationRequest request, ScopeResolver r) {
        return decideNow(request, r, null);
    }

    /**
     * {@link #decideNow(AuthorizationRequest, ScopeResolver)} for a request to an endpoint of
     * {@code server}: its {@code scopes_supported} and {@code issuer} are the server facts (a
     * learned issuer's metadata; null: the configured issuer's).
     */
    public Decision decideNow(AuthorizationRequest request, ScopeResolver r, /* nullable */ ServerMetadata server) {
        Facts facts = server == null ? serverFacts() : serverFacts(server);
        for (int round = 0; ; round++) {
            Decision d = r.decide(request, facts);
            if (!(d instanceof Decision.NeedFacts need) || round >= MAX_ROUNDS) {
                return d;
            }
            Set<Fact> wanted = wanted(need, facts);
            for (Fact fact : FACTS) {
                if (!wanted.contains(fact) || facts.lookedUp(fact)) {
                    continue;
                }
                Facts found = cached(fact, request, facts);
                if (found == null) {
                    // the rest of this round and the next ones as decide() always did them
                    int next = round + 1;
                    return new Decision.Pending(lookup(request, facts, wanted, fact)
                            .thenCompose(f -> gather(request, f, r, next))
                            .thenApply(f -> r.decide(request, f)));
                }
                facts = found;
            }
        }
    }

    /** The full trace of the decision, for {@code /admin/explain}. */
    public CompletableFuture<Explanation> explain(AuthorizationRequest request) {
        ScopeResolver r = resolver.get();
        Facts all = serverFacts();
        return lookup(request, all, EnumSet.allOf(Fact.class), null).thenApply(f -> r.explain(request, f));
    }

    /** The server's facts, built once per metadata document (not per request). */
    private Facts serverFacts() {
        ServerMetadata m = metadata.get();
        ServerFacts cached = serverFacts;
        if (cached != null && cached.source() == m) {
            return cached.facts();
        }
        Facts f = m == null ? Facts.none()
                : Facts.none().withServer(m.scopesSupported(), m.issuer(), m.issParameterSupported());
        serverFacts = new ServerFacts(m, f);
        return f;
    }

    /** A learned issuer's server facts, built once per document: direct-mapped, racy like {@link #withRegistration}. */
    private Facts serverFacts(ServerMetadata m) {
        int h = System.identityHashCode(m);
        int slot = (h ^ h >>> 16) & (learnedServerFacts.length - 1);
        ServerFacts cached = learnedServerFacts[slot];
        if (cached != null && cached.source() == m) {
            return cached.facts();
        }
        Facts f = Facts.none().withServer(m.scopesSupported(), m.issuer(), m.issParameterSupported());
        learnedServerFacts[slot] = new ServerFacts(m, f);
        return f;
    }

    private record ServerFacts(ServerMetadata source, Facts facts) {}

    private record WithRegistration(Facts base, Registration registration, Facts facts) {}

    /** {@code base.withRegistration(found)}, the same instance for every request of a recent client. */
    private Facts withRegistration(Facts base, Registration found) {
        int h = found == null ? 0 : found.clientId().hashCode();
        int slot = (h ^ h >>> 16) & (withRegistration.length - 1);
        WithRegistration e = withRegistration[slot];
        if (e != null && e.base() == base && e.registration() == found) {
            return e.facts();
        }
        Facts f = base.withRegistration(found);
        withRegistration[slot] = new WithRegistration(base, found, f);
        return f;
    }

    private CompletableFuture<Facts> gather(AuthorizationRequest request, Facts facts, ScopeResolver r, int round) {
        Decision d = r.decide(request, facts);
        if (!(d instanceof Decision.NeedFacts need) || round >= MAX_ROUNDS) {
            return CompletableFuture.completedFuture(facts);
        }
        return lookup(request, facts, wanted(need, facts), null).thenCompose(f -> gather(request, f, r, round + 1));
    }

    /**
     * The registration first: it is usually in memory, and when {@code registered} or
     * {@code learned} wins, the resource and document facts are never needed.
     */
    private static Set<Fact> wanted(Decision.NeedFacts need, Facts facts) {
        return need.facts().contains(Fact.REGISTRATION) && !facts.lookedUp(Fact.REGISTRATION)
                ? REGISTRATION_ONLY : need.facts();
    }

    /**
     * {@code facts} plus the {@code wanted} facts: those in memory at once, the others once
     * fetched.
     *
     * @param notCached a wanted fact already found not to be in memory (fetched without asking
     *                  the cache again), or null
     */
    private CompletableFuture<Facts> lookup(AuthorizationRequest request, Facts facts, Set<Fact> wanted,
                                            Fact notCached) {
        Facts now = facts;
        List<CompletableFuture<Function<Facts, Facts>>> pending = new ArrayList<>(2);
        for (Fact fact : FACTS) {
            if (!wanted.contains(fact) || now.lookedUp(fact)) {
                continue;
            }
            Facts found = fact == notCached ? null : cached(fact, request, now);
            if (found != null) {
                now = found;
            } else {
                pending.add(fetch(fact, request));
            }
        }
        if (pending.isEmpty()) {
            return CompletableFuture.completedFuture(now);
        }
        Facts base = now;
        return CompletableFuture.allOf(pending.toArray(new CompletableFuture[0])).thenApply(v -> {
            Facts f = base;
            for (CompletableFuture<Function<Facts, Facts>> p : pending) {
                f = p.join().apply(f);
            }
            return f;
        });
    }

    /** {@code facts} plus {@code fact} when it is in memory (a cache hit); else null. */
    private Facts cached(Fact fact, AuthorizationRequest request, Facts facts) {
        switch (fact) {
            case REGISTRATION: {
                String id = request.clientId();
                Optional<Registration> cached = id == null ? Optional.empty() : registrations.findIfCached(id);
                return cached == null ? null : withRegistration(facts, cached.orElse(null));
            }
            case RESOURCE_METADATA: {
                String resource = request.resource();
                List<String> cached = resource == null ? List.of() : resources.cachedOrNull(resource);
                return cached == null ? null : facts.withResourceScopes(cached);
            }
            case DOCUMENT: {
                String id = request.clientId();
                Optional<ClientDocument> cached = id == null ? Optional.empty() : documents.cachedOrNull(id);
                return cached == null ? null : facts.withDocumentScope(cached.isPresent() ? cached.get().scope() : null);
            }
            default:
                throw new AssertionError(fact);
        }
    }

    /** What adds {@code fact}, once fetched, to the facts. */
    private CompletableFuture<Function<Facts, Facts>> fetch(Fact fact, AuthorizationRequest request) {
        switch (fact) {
            case REGISTRATION:
                return registrations.find(request.clientId())
                        .handle((o, e) -> f -> f.withRegistration(e == null ? o.orElse(null) : null));
            case RESOURCE_METADATA:
                return resources.scopesFor(request.resource())
                        .handle((s, e) -> f -> f.withResourceScopes(e == null ? s : List.of()));
            case DOCUMENT:
                return documents.lookup(request.clientId())
                        .handle((o, e) -> f -> f.withDocumentScope(e == null && o.isPresent() ? o.get().scope() : null));
            default:
                throw new AssertionError(fact);
        }
    }
}
