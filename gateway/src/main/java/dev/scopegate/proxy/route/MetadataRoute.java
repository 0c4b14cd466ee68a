package dev.scopegate.proxy.route;

import dev.scopegate.oauth.metadata.MetadataService;
import dev.scopegate.proxy.ErrorResponder;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Objects;
import java.util.Optional;

/**
 * Authorization server metadata (RFC 8414) and OpenID discovery documents, served from the
 * {@link MetadataService} cache (augmented as configured) for the paths it serves; other
 * well-known paths are forwarded. Before the first fetch completes, requests wait for it together
 * and get 503 when it fails. Thread-safe; event loop.
 */
final class MetadataRoute implements Route {

    private final MetadataService metadata;

    MetadataRoute(MetadataService metadata) {
        this.metadata = Objects.requireNonNull(metadata, "metadata");
    }

    @Override
    public Plan plan(HttpRequest request, String path) {
        if (!metadata.servesPath(path)) {
            return Plan.FORWARD; // not a document scopegate serves
        }
        Optional<MetadataService.Served> served = metadata.documentFor(path);
        if (served.isPresent() && served.get().status() != 503) {
            return new Plan.Respond(toResponse(served.get()));
        }
        // nothing cached yet: one fetch, shared by every request waiting for it
        return new Plan.Defer(metadata.documentForAsync(path).handle((doc, e) -> {
            if (e != null || doc.isEmpty() || doc.get().status() == 503) {
                return new Plan.Respond(ErrorResponder.response(HttpResponseStatus.SERVICE_UNAVAILABLE,
                        "Service Unavailable: authorization server metadata not available yet"));
            }
            return new Plan.Respond(toResponse(doc.get()));
        }));
    }

    private static FullHttpResponse toResponse(MetadataService.Served s) {
        return Http.document(HttpResponseStatus.valueOf(s.status()), s.body(), s.contentType());
    }
}
