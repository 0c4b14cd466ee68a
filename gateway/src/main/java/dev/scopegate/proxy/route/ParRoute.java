package dev.scopegate.proxy.route;

import dev.scopegate.config.ScopegateConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * The pushed authorization request endpoint (RFC 9126): a form {@code POST} is read whole (up to
 * {@code limits.max-form-bytes}) and gets the scope the authorization endpoint would add, so that
 * the later {@code GET} with {@code request_uri} needs nothing. Anything else is forwarded
 * untouched. Thread-safe; event loop.
 */
final class ParRoute implements Route {

    private final Supplier<ScopegateConfig> config;
    private final BodyRewriter form;

    ParRoute(Supplier<ScopegateConfig> config, AuthorizationRewrite rewrite) {
        this.config = Objects.requireNonNull(config, "config");
        this.form = rewrite.form(RouteKind.PAR);
    }

    @Override
    public Plan plan(HttpRequest request, String path) {
        if (request.method().equals(HttpMethod.POST) && Http.isForm(request)) {
            return new Plan.BufferBody(config.get().limits().maxFormBytes(), form, null);
        }
        return Plan.FORWARD;
    }
}
