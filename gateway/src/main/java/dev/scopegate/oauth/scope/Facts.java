package dev.scopegate.oauth.scope;

import dev.scopegate.model.Registration;

import java.util.List;

/**
 * What the caller has gathered for one request so far. Start with {@link #none()} plus the server
 * facts (from the metadata cache, always at hand), call {@link ScopeResolver#decide}, and on
 * {@link Decision.NeedFacts} fetch what is named, add it with the {@code with…} methods and call
 * again. A fact that was looked up and not found is recorded as looked up with a null value, so the
 * resolver does not ask for it again. Immutable; safe to share across threads.
 *
 * @param registration          the client's registration, null if unknown or not looked up
 * @param registrationLookedUp  whether the store was asked (forced true when {@code registration} is non-null)
 * @param scopesSupported       the IdP's {@code scopes_supported}; null (or empty) means unknown
 * @param issuer                the IdP's {@code issuer}, null if unknown
 * @param issParameterSupported the IdP advertises {@code authorization_response_iss_parameter_supported} (RFC 9207)
 * @param resourceScopes        the protected resource's {@code scopes_supported}, null if none/unknown
 * @param resourceLookedUp      whether the resource metadata was fetched (forced true when non-null)
 * @param documentScope         the client ID metadata document's {@code scope}, null if none/unknown
 * @param documentLookedUp      whether the document was fetched (forced true when non-null)
 */
public record Facts(
        Registration registration,
        boolean registrationLookedUp,
        List<String> scopesSupported,
        String issuer,
        boolean issParameterSupported,
        List<String> resourceScopes,
        boolean resourceLookedUp,
        String documentScope,
        boolean documentLookedUp) {

    private static final Facts NONE = new Facts(null, false, null, null, false, null, false, null, false);

    public Facts {
        registrationLookedUp |= registration != null;
        scopesSupported = scopesSupported == null ? null : List.copyOf(scopesSupported);
        resourceScopes = resourceScopes == null ? null : List.copyOf(resourceScopes);
        resourceLookedUp |= resourceScopes != null;
        documentLookedUp |= documentScope != null;
    }

    /** Nothing known, nothing looked up. */
    public static Facts none() {
        return NONE;
    }

    /** The IdP's metadata facts; {@code scopesSupported} null means unknown. */
    public Facts withServer(List<String> scopesSupported, String issuer, boolean issParameterSupported) {
        return new Facts(registration, registrationLookedUp, scopesSupported, issuer, issParameterSupported,
                resourceScopes, resourceLookedUp, documentScope, documentLookedUp);
    }

    /** The store's answer; null records "looked up, not found". */
    public Facts withRegistration(Registration found) {
        return new Facts(found, true, scopesSupported, issuer, issParameterSupported,
                resourceScopes, resourceLookedUp, documentScope, documentLookedUp);
    }

    /** The resource metadata's {@code scopes_supported}; null records "looked up, none". */
    public Facts withResourceScopes(List<String> scopes) {
        return new Facts(registration, registrationLookedUp, scopesSupported, issuer, issParameterSupported,
                scopes, true, documentScope, documentLookedUp);
    }

    /** The client ID metadata document's {@code scope}; null records "looked up, none". */
    public Facts withDocumentScope(String scope) {
        return new Facts(registration, registrationLookedUp, scopesSupported, issuer, issParameterSupported,
                resourceScopes, resourceLookedUp, scope, true);
    }

    /** Whether {@code fact} has been looked up (found or not). */
    public boolean lookedUp(Fact fact) {
        switch (fact) {
            case REGISTRATION: return registrationLookedUp;
            case RESOURCE_METADATA: return resourceLookedUp;
            case DOCUMENT: return documentLookedUp;
            default: throw new AssertionError(fact);
        }
    }
}
