package dev.scopegate.proxy.route;

import io.netty.handler.codec.http.HttpRequest;

/**
 * The behaviour of one endpoint: the {@link Plan} for a request {@link RouteTable} classified to
 * it. Called on the event loop; must not block. Implementations are thread-safe.
 */
interface Route {

    /**
     * @param request the validated request head; its URI is origin-form and may be changed in place
     * @param path    the request path without query
     */
    Plan plan(HttpRequest request, String path);
}
