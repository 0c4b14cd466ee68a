package dev.scopegate.oauth;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What scopegate knows of one client: the non-secret part of its RFC 7591 registration (captured
 * from the IdP's own 2xx answer, or imported) plus the scopes learned from its traffic.
 * {@code client_secret} and {@code registration_access_token} are never part of it.
 * Immutable and thread-safe; "changes" return new instances.
 *
 * @param clientId              never null
 * @param scope                 the registered scope (space-separated), null if none was registered
 * @param redirectUris          registered redirect URIs, exact strings as registered
 * @param grantTypes            registered grant types
 * @param clientName            nullable
 * @param registrationClientUri RFC 7592 management URI, nullable
 * @param learnedScope          scope learned from authorization requests / token responses, nullable
 * @param createdAt             when scopegate first stored the client
 * @param updatedAt             last change
 */
public record Registration(
        String clientId,
        String scope,
        List<String> redirectUris,
        List<String> grantTypes,
        String clientName,
        String registrationClientUri,
        String learnedScope,
        Instant createdAt,
        Instant updatedAt) {

    public Registration {
        Objects.requireNonNull(clientId, "clientId");
        redirectUris = redirectUris == null ? List.of() : List.copyOf(redirectUris);
        grantTypes = grantTypes == null ? List.of() : List.copyOf(grantTypes);
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }

    /** A client known only from what it was seen to ask or be granted. */
    public static Registration learnedOnly(String clientId, String learnedScope, Instant now) {
        return new Registration(clientId, null, List.of(), List.of(), null, null, learnedScope, now, now);
    }

    public Registration withLearnedScope(String learned, Instant now) {
        return new Registration(clientId, scope, redirectUris, grantTypes, clientName, registrationClientUri,
                learned, createdAt, now);
    }

    /**
     * The IdP's newer view of the client (RFC 7592 read/update) keeps what scopegate learned and
     * when it first saw the client.
     */
    public Registration mergedInto(Registration older) {
        if (older == null) {
            return this;
        }
        return new Registration(clientId, scope, redirectUris, grantTypes, clientName,
                registrationClientUri != null ? registrationClientUri : older.registrationClientUri,
                learnedScope != null ? learnedScope : older.learnedScope, older.createdAt, updatedAt);
    }
}
