package dev.scopegate.oauth.scope;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.config.ScopegateConfig.Source;

import java.util.List;
import java.util.Objects;

/**
 * {@code scope.fill-registration}: the scope the chain resolves for a Dynamic Client Registration
 * request (RFC 7591) that names none. There is no {@code client_id} yet, so the chain runs in its
 * configured order over the sources that can answer without one:
 *
 * <ul>
 *   <li>{@code client}: the {@code scope} of the first family that claims one of the request's
 *       {@code redirect_uris} (in their order); {@code scope.clients} is by client_id and cannot apply;</li>
 *   <li>{@code resource}: when exactly one protected resource is configured ({@code resources:}),
 *       its {@code scopes_supported} — a registration names no {@code resource}, and with a single
 *       published resource it can only be for that one;</li>
 *   <li>{@code server}: the IdP's {@code scopes_supported};</li>
 *   <li>{@code default}: {@code scope.default}.</li>
 * </ul>
 *
 * {@code registered}, {@code learned} and {@code document} need a client and are passed over. Each
 * candidate goes through the same policy as an authorization request's ({@code deny},
 * {@code only-supported}, {@code accept-commas}). Pure; built from one config snapshot; safe for
 * any thread.
 */
public final class RegistrationScopes {

    /** A scope to add and the source it came from. */
    public record Filled(String scope, Source source) {
        public Filled {
            Objects.requireNonNull(scope, "scope");
            Objects.requireNonNull(source, "source");
        }
    }

    private final List<Source> sources;
    private final ClientFamilies families;
    private final ScopePolicy policy;
    private final String defaultScope;
    private final /* nullable */ String resourceScopes;

    public RegistrationScopes(ScopegateConfig.Scope config, List<ScopegateConfig.Resource> resources) {
        Objects.requireNonNull(config, "config");
        this.sources = config.sources();
        this.families = new ClientFamilies(config.families());
        this.policy = new ScopePolicy(config.deny(), config.onlySupported(), config.acceptCommas());
        this.defaultScope = config.defaultScope();
        this.resourceScopes = resources.size() == 1 ? join(resources.get(0).scopesSupported()) : null;
    }

    /**
     * The scope for a registration with these {@code redirect_uris}, or null when no source yields
     * one after the policy.
     *
     * @param scopesSupported the IdP's {@code scopes_supported}; null or empty: unknown
     */
    public /* nullable */ Filled resolve(List<String> redirectUris, /* nullable */ List<String> scopesSupported) {
        for (Source source : sources) {
            String candidate = candidate(source, redirectUris, scopesSupported);
            if (candidate != null) {
                String scope = policy.apply(candidate, scopesSupported, null);
                if (scope != null) {
                    return new Filled(scope, source);
                }
            }
        }
        return null;
    }

    private String candidate(Source source, List<String> redirectUris, List<String> scopesSupported) {
        return switch (source) {
            case CLIENT -> familyScope(redirectUris);
            case RESOURCE -> resourceScopes;
            case SERVER -> join(scopesSupported);
            case DEFAULT -> defaultScope.isBlank() ? null : defaultScope;
            case REGISTERED, LEARNED, DOCUMENT -> null;
        };
    }

    private String familyScope(List<String> redirectUris) {
        for (String uri : redirectUris) {
            ScopegateConfig.Family f = families.find(uri);
            if (f != null && f.scope() != null && !f.scope().isBlank()) {
                return f.scope();
            }
        }
        return null;
    }

    private static String join(/* nullable */ List<String> scopes) {
        return scopes == null || scopes.isEmpty() ? null : String.join(" ", scopes);
    }
}
