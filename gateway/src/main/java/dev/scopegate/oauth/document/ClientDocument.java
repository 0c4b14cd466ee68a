package dev.scopegate.oauth.document;

import java.util.List;
import java.util.Objects;

/**
 * The part of a validated Client ID Metadata Document the scope chain uses. Immutable.
 *
 * @param clientId     the document's URL, equal to its {@code client_id} member
 * @param scope        the document's {@code scope} as published (space-separated), null if absent
 * @param redirectUris the document's {@code redirect_uris}, empty if absent
 */
public record ClientDocument(String clientId, /* nullable */ String scope, List<String> redirectUris) {
    public ClientDocument {
        Objects.requireNonNull(clientId, "clientId");
        redirectUris = List.copyOf(redirectUris);
    }
}
