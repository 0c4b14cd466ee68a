package dev.scopegate.proxy.route;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Classifies requests bound to the IdP and chooses their {@link Plan}. Called on the event loop;
 * must not block.
 */
public interface RequestRouter {

    /** @param path the request path without query */
    RouteKind classify(HttpMethod method, String path);

    /**
     * @param request the validated request head; its URI is origin-form and may be changed in place
     * @param path    the request path without query
     */
    Plan plan(HttpRequest request, String path, RouteKind kind);

    RequestRouter PASS_THROUGH = new RequestRouter() {
        @Override
        public RouteKind classify(HttpMethod method, String path) {
            return RouteKind.PASS_THROUGH;
        }

        @Override
        public Plan plan(HttpRequest request, String path, RouteKind kind) {
            return Plan.FORWARD;
        }
    };
}
