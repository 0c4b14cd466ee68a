package dev.scopegate.proxy.route;

import dev.scopegate.oauth.metadata.IssuerPaths;
import dev.scopegate.oauth.metadata.LearnedIssuers;
import dev.scopegate.oauth.metadata.IssAdvertisement;
import dev.scopegate.oauth.metadata.MetadataService;
import dev.scopegate.proxy.ErrorResponder;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Authorization server metadata (RFC 8414) and OpenID discovery documents, served from the
 * {@link MetadataService} cache (augmented as configured) for the paths it serves; other
 * well-known paths are forwarded. Before the first fetch completes, requests wait for it together
 * and get 503 when it fails.
 *
 * <p>With {@code metadata.issuers.learn}, a discovery request naming another issuer path
 * ({@link IssuerPaths#named}) is answered from that learned issuer's cache; an issuer path not
 * learned yet is learned first ({@link LearnedIssuers#learn}: the request waits for that one
 * shared fetch). What is not learned, and a document a learned issuer does not have cached, is
 * forwarded untouched, as any path scopegate does not serve. Thread-safe; event loop.
 */
final class MetadataRoute implements Route {

    private final MetadataService metadata;
    private final /* nullable */ LearnedIssuers issuers;
    /** {@code compat.add-iss} on when true; null: never. */
    private final /* nullable */ BooleanSupplier addIss;
    private final IssAdvertisement issAdvertisement = new IssAdvertisement();

    MetadataRoute(MetadataService metadata, /* nullable */ LearnedIssuers issuers, /* nullable */ BooleanSupplier addIss) {
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.issuers = issuers;
        this.addIss = addIss;
    }

    @Override
    public Plan plan(HttpRequest request, String path) {
        if (!metadata.servesPath(path)) {
            return issuers == null ? Plan.FORWARD : learned(path); // not a document of the configured issuer
        }
        Optional<MetadataService.Served> served = metadata.documentFor(path);
        if (served.isPresent() && served.get().status() != 503) {
            return new Plan.Respond(toResponse(advertised(served.get())));
        }
        // nothing cached yet: one fetch, shared by every request waiting for it
        return new Plan.Defer(metadata.documentForAsync(path).handle((doc, e) -> {
            if (e != null || doc.isEmpty() || doc.get().status() == 503) {
                return new Plan.Respond(ErrorResponder.response(HttpResponseStatus.SERVICE_UNAVAILABLE,
                        "Service Unavailable: authorization server metadata not available yet"));
            }
            return new Plan.Respond(toResponse(advertised(doc.get())));
        }));
    }

    private Plan learned(String path) {
        String issuerPath = IssuerPaths.named(path);
        if (issuerPath == null) {
            return Plan.FORWARD;
        }
        MetadataService known = issuers.learned(issuerPath);
        if (known != null) {
            return served(known, path);
        }
        return new Plan.Defer(issuers.learn(issuerPath).handle((service, e) ->
                e != null || service == null ? Plan.FORWARD : served(service, path)));
    }

    /** A learned issuer's document at {@code path} when cached; otherwise the IdP answers. */
    private Plan served(MetadataService service, String path) {
        Optional<MetadataService.Served> doc = service.documentFor(path);
        return doc.isPresent() && doc.get().status() == 200
                ? new Plan.Respond(toResponse(advertised(doc.get()))) : Plan.FORWARD;
    }

    /** {@code s} advertising {@code iss} in authorization responses when {@code compat.add-iss} is on. */
    private MetadataService.Served advertised(MetadataService.Served s) {
        if (addIss == null || s.status() != 200 || !addIss.getAsBoolean()) {
            return s;
        }
        byte[] body = issAdvertisement.apply(s.body());
        return body == s.body() ? s : new MetadataService.Served(s.status(), s.contentType(), body);
    }

    private static FullHttpResponse toResponse(MetadataService.Served s) {
        return Http.document(HttpResponseStatus.valueOf(s.status()), s.body(), s.contentType());
    }
}
