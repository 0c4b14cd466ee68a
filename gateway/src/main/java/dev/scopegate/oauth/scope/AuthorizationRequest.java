package dev.scopegate.oauth.scope;

/**
 * What the resolver needs to know of one authorization (or PAR) request, already decoded by the
 * caller. Values are the decoded <em>first</em> occurrence of each parameter; the counts say how
 * often {@code client_id} and {@code scope} occurred. Immutable; safe to share across threads.
 *
 * @param clientIdCount    occurrences of {@code client_id}
 * @param clientId         decoded first {@code client_id}, null if absent
 * @param scopeCount       occurrences of {@code scope}
 * @param scope            decoded first {@code scope}, null if absent (a bare {@code scope} without
 *                         {@code =} may be null with a count of 1: it counts as empty)
 * @param redirectUri      decoded {@code redirect_uri}, null if absent
 * @param resource         decoded first {@code resource} (RFC 8707), null if absent
 * @param hasRequestObject a {@code request} parameter (JAR) is present
 * @param hasRequestUri    a {@code request_uri} parameter (PAR) is present
 * @param isGet            the request is a GET (query), not a form POST
 * @param malformed        the caller could not parse the parameters reliably (bad percent-encoding …)
 * @param state            decoded {@code state}, null if absent
 */
public record AuthorizationRequest(
        int clientIdCount,
        String clientId,
        int scopeCount,
        String scope,
        String redirectUri,
        String resource,
        boolean hasRequestObject,
        boolean hasRequestUri,
        boolean isGet,
        boolean malformed,
        String state) {

    public AuthorizationRequest {
        if (clientIdCount < 0 || scopeCount < 0) {
            throw new IllegalArgumentException("negative parameter count");
        }
    }

    /**
     * A GET without {@code scope} for one client: what {@code /admin/explain} asks about.
     * {@code redirectUri} and {@code resource} may be null.
     */
    public static AuthorizationRequest withoutScope(String clientId, String redirectUri, String resource) {
        return new AuthorizationRequest(clientId == null ? 0 : 1, clientId, 0, null, redirectUri, resource,
                false, false, true, false, null);
    }
}
