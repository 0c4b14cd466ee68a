package dev.scopegate.oauth;

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
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs the {@link ScopeResolver} and gathers the facts it asks for: registrations from the
 * repository (memory first), protected-resource metadata and client ID metadata documents.
 * A request whose facts are all in memory completes synchronously (the returned future is
 * already done), so the caller can skip any thread hop.
 *
 * <p>Thread-safe; futures may complete on store or fetcher threads.
 */
public final class ScopeNormalizer {

    private static final int MAX_ROUNDS = 4;
    private static final java.util.Set<Fact> REGISTRATION_ONLY = java.util.EnumSet.of(Fact.REGISTRATION);

    private final Supplier<ScopeResolver> resolver;
    private final RegistrationRepository registrations;
    private final Supplier<ServerMetadata> metadata;
    private final ResourceMetadataCache resources;
    private final ClientIdMetadataDocuments documents;
    private volatile ServerFacts serverFacts;

    public ScopeNormalizer(Supplier<ScopeResolver> resolver, RegistrationRepository registrations,
                           Supplier<ServerMetadata> metadata, ResourceMetadataCache resources,
                           ClientIdMetadataDocuments documents) {
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.registrations = Objects.requireNonNull(registrations, "registrations");
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.resources = Objects.requireNonNull(resources, "resources");
        this.documents = Objects.requireNonNull(documents, "documents");
    }

    public CompletableFuture<Decision> decide(AuthorizationRequest request) {
        ScopeResolver r = resolver.get();
        return gather(request, serverFacts(), r, 0).thenApply(facts -> r.decide(request, facts));
    }

    /** The full trace of the decision, for {@code /admin/explain}. */
    public CompletableFuture<Explanation> explain(AuthorizationRequest request) {
        ScopeResolver r = resolver.get();
        Facts all = serverFacts();
        return lookup(request, all, java.util.EnumSet.allOf(Fact.class)).thenApply(f -> r.explain(request, f));
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

    private record ServerFacts(ServerMetadata source, Facts facts) {}

    private CompletableFuture<Facts> gather(AuthorizationRequest request, Facts facts, ScopeResolver r, int round) {
        Decision d = r.decide(request, facts);
        if (!(d instanceof Decision.NeedFacts need) || round >= MAX_ROUNDS) {
            return CompletableFuture.completedFuture(facts);
        }
        // The registration first: it is usually in memory, and when `registered` or `learned`
        // wins, the resource and document facts are never needed.
        java.util.Set<Fact> wanted = need.facts().contains(Fact.REGISTRATION) && !facts.lookedUp(Fact.REGISTRATION)
                ? REGISTRATION_ONLY : need.facts();
        return lookup(request, facts, wanted).thenCompose(f -> gather(request, f, r, round + 1));
    }

    private CompletableFuture<Facts> lookup(AuthorizationRequest request, Facts facts, java.util.Set<Fact> wanted) {
        Facts now = facts;
        List<CompletableFuture<Function<Facts, Facts>>> pending = new ArrayList<>(2);
        for (Fact fact : wanted) {
            if (now.lookedUp(fact)) {
                continue;
            }
            switch (fact) {
                case REGISTRATION -> {
                    String id = request.clientId();
                    Optional<Registration> cached = id == null ? Optional.empty() : registrations.findIfCached(id);
                    if (cached != null) {
                        now = now.withRegistration(cached.orElse(null));
                    } else {
                        pending.add(registrations.find(id)
                                .handle((o, e) -> f -> f.withRegistration(e == null ? o.orElse(null) : null)));
                    }
                }
                case RESOURCE_METADATA -> {
                    String resource = request.resource();
                    List<String> cached = resource == null ? List.of() : resources.cachedOrNull(resource);
                    if (cached != null) {
                        now = now.withResourceScopes(cached);
                    } else {
                        pending.add(resources.scopesFor(resource)
                                .handle((s, e) -> f -> f.withResourceScopes(e == null ? s : List.of())));
                    }
                }
                case DOCUMENT -> {
                    String id = request.clientId();
                    Optional<ClientDocument> cached = id == null ? Optional.empty() : documents.cachedOrNull(id);
                    if (cached != null) {
                        now = now.withDocumentScope(cached.map(ClientDocument::scope).orElse(null));
                        continue;
                    }
                    pending.add(documents.lookup(id)
                            .handle((o, e) -> f -> f.withDocumentScope(e == null && o.isPresent() ? o.get().scope() : null)));
                }
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
}
