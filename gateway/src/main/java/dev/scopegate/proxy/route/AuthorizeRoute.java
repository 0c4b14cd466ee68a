package dev.scopegate.proxy.route;

import dev.scopegate.config.ScopegateConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * The authorization endpoint (RFC 6749 §3.1): a {@code GET} has its query rewritten in place; a
 * form {@code POST} (OpenID Connect Core §3.1.2.1) is read whole (up to
 * {@code limits.max-form-bytes}) and its body rewritten. Anything else is forwarded untouched.
 * Thread-safe; event loop.
 */
final class AuthorizeRoute implements Route {

    private final Supplier<ScopegateConfig> config;
    private final AuthorizationRewrite rewrite;
    private final BodyRewriter form;

    AuthorizeRoute(Supplier<ScopegateConfig> config, AuthorizationRewrite rewrite) {
        this.config = Objects.requireNonNull(config, "config");
        this.rewrite = Objects.requireNonNull(rewrite, "rewrite");
        this.form = rewrite.form(RouteKind.AUTHORIZE);
    }

    @Override
    public Plan plan(HttpRequest request, String path) {
        HttpMethod method = request.method();
        if (method.equals(HttpMethod.GET)) {
            return rewrite.withIss(rewrite.query(request, path), path);
        }
        if (method.equals(HttpMethod.POST) && Http.isForm(request)) {
            return new Plan.BufferBody(config.get().limits().maxFormBytes(), form, rewrite.issTap(path));
        }
        return Plan.FORWARD;
    }
}
