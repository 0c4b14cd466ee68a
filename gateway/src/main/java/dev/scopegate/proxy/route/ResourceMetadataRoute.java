package dev.scopegate.proxy.route;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.oauth.document.ResourceMetadataCache;
import dev.scopegate.oauth.metadata.MetadataService;
import dev.scopegate.oauth.metadata.ServerMetadata;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Protected resource metadata (RFC 9728) that scopegate publishes for the resources of
 * {@code resources:}, naming the IdP's issuer (or {@code public-base-url} before the metadata is
 * known) as authorization server; a path no configured resource has is forwarded.
 * Thread-safe; event loop.
 */
final class ResourceMetadataRoute implements Route {

    /** The well-known prefix of RFC 9728 documents (the resource's path follows it). */
    static final String PREFIX = "/.well-known/oauth-protected-resource";

    private final Supplier<ScopegateConfig> config;
    private final MetadataService metadata;
    private final ResourceMetadataCache resources;

    ResourceMetadataRoute(Supplier<ScopegateConfig> config, MetadataService metadata, ResourceMetadataCache resources) {
        this.config = Objects.requireNonNull(config, "config");
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.resources = Objects.requireNonNull(resources, "resources");
    }

    @Override
    public Plan plan(HttpRequest request, String path) {
        ServerMetadata m = metadata.cachedOrNull();
        ScopegateConfig c = config.get();
        String issuer = m != null ? m.issuer() : c.publicBaseUrl() == null ? null : c.publicBaseUrl().toString();
        Optional<byte[]> doc = issuer == null ? Optional.empty() : resources.publishedDocument(path, issuer);
        return doc.<Plan>map(bytes -> new Plan.Respond(Http.document(HttpResponseStatus.OK, bytes, "application/json")))
                .orElse(Plan.FORWARD);
    }
}
