package dev.scopegate.proxy.route;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

import java.util.concurrent.CompletionStage;

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

    /**
     * Null when {@link #classify} is final: the endpoints it compares paths with are known.
     * Otherwise (the IdP's metadata was never fetched and {@code endpoints:} does not name every
     * endpoint) a stage that completes with {@code true} once they are known, or {@code false}
     * when they cannot be had now (the fetch failed or its bounded wait ran out). A request that
     * {@link #classify} called pass-through must wait for it: it may address an endpoint not yet
     * known. The stage may complete on any thread.
     */
    default /* nullable */ CompletionStage<Boolean> endpointsPending() {
        return null;
    }

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
