package dev.scopegate.proxy.route;

import dev.scopegate.oauth.metadata.MetadataService;
import dev.scopegate.oauth.metadata.ServerMetadata;

/**
 * The issuer whose authorization response a request's answer is ({@code compat.add-iss}): the
 * issuer of the endpoint the request addressed. One issuer per gateway today (the IdP's metadata);
 * with several issuers behind one gateway, the one whose paths {@code path} falls under.
 * Thread-safe; event loop.
 */
@FunctionalInterface
public interface IssuerOf {

    /** The issuer for a request to {@code path}; null while unknown (no metadata yet). */
    /* nullable */ String issuerFor(String path);

    /** The issuer of {@code metadata}'s current document, whatever the path. */
    static IssuerOf primary(MetadataService metadata) {
        return path -> {
            ServerMetadata m = metadata.cachedOrNull();
            return m == null ? null : m.issuer();
        };
    }
}
