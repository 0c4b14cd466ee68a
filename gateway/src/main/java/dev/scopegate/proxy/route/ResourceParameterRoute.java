package dev.scopegate.proxy.route;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.config.ScopegateConfig.ResourceParameter;
import dev.scopegate.oauth.ResourceParameters;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * {@code compat.resource-parameter} around the route of an endpoint that takes RFC 8707
 * {@code resource} parameters (authorization: query or form; PAR and token: form): the wrapped
 * route decides first, on the request as the client sent it — so the scope chain's
 * {@code resource} source still sees {@code resource} — and then its {@code resource}
 * parameters are removed or renamed ({@link ResourceParameters}), every other byte as it was.
 * A form that the wrapped route would have streamed (a token request while learning is off) is
 * read whole for it, up to {@code limits.max-form-bytes}. With {@code forward} (the default) the
 * wrapped route's plan is returned as it is. Thread-safe; event loop.
 */
final class ResourceParameterRoute implements Route {

    private final Supplier<ScopegateConfig> config;
    private final Route route;
    /** Whether a {@code GET}'s query carries the parameters (the authorization endpoint). */
    private final boolean query;

    ResourceParameterRoute(Supplier<ScopegateConfig> config, Route route, boolean query) {
        this.config = Objects.requireNonNull(config, "config");
        this.route = Objects.requireNonNull(route, "route");
        this.query = query;
    }

    @Override
    public Plan plan(HttpRequest request, String path) {
        ScopegateConfig c = config.get();
        ResourceParameter mode = c.compat().resourceParameter();
        Plan plan = route.plan(request, path);
        return mode == ResourceParameter.FORWARD ? plan : adapt(plan, request, mode, c.limits().maxFormBytes());
    }

    private Plan adapt(Plan plan, HttpRequest request, ResourceParameter mode, int maxFormBytes) {
        if (plan instanceof Plan.Defer d) {
            return new Plan.Defer(d.plan().thenApply(p -> adapt(p, request, mode, maxFormBytes)));
        }
        if (plan instanceof Plan.BufferBody b) {
            return new Plan.BufferBody(b.maxBytes(), new FormRewriter(b.rewriter(), mode), b.tap());
        }
        if (plan instanceof Plan.Forward f) {
            HttpMethod method = request.method();
            if (query && method.equals(HttpMethod.GET)) {
                String uri = request.uri();
                int q = uri.indexOf('?');
                String rewritten = q < 0 ? null : apply(mode, uri, q + 1, uri.length());
                if (rewritten != null) {
                    request.setUri(rewritten);
                }
            } else if (method.equals(HttpMethod.POST) && Http.isForm(request)) {
                return new Plan.BufferBody(maxFormBytes, new FormRewriter(null, mode), f.tap());
            }
        }
        return plan;
    }

    private static /* nullable */ String apply(ResourceParameter mode, String raw, int from, int end) {
        return mode == ResourceParameter.AUDIENCE ? ResourceParameters.toAudience(raw, from, end)
                : ResourceParameters.strip(raw, from, end);
    }

    /** The wrapped route's body rewrite (if any), then the resource parameters of what it forwards. */
    private static final class FormRewriter implements BodyRewriter {
        private final /* nullable */ BodyRewriter inner;
        private final ResourceParameter mode;

        FormRewriter(/* nullable */ BodyRewriter inner, ResourceParameter mode) {
            this.inner = inner;
            this.mode = mode;
        }

        @Override
        public CompletionStage<Result> onBody(HttpRequest head, ByteBuf body) {
            CompletionStage<Result> first = inner == null ? CompletableFuture.completedFuture(BodyRewriter.UNCHANGED)
                    : inner.onBody(head, body);
            return first.thenApply(result -> {
                if (result instanceof Result.Reply) {
                    return result;
                }
                // the body stays valid until the stage returned here completes
                String raw = result instanceof Result.Replace r ? new String(r.body(), StandardCharsets.ISO_8859_1)
                        : body.toString(StandardCharsets.ISO_8859_1);
                String rewritten = apply(mode, raw, 0, raw.length());
                // the wrapped route's tap (rewrite outcome, iss) still observes the answer
                return rewritten == null ? result
                        : new Result.Replace(rewritten.getBytes(StandardCharsets.ISO_8859_1),
                                result instanceof Result.Replace r ? r.tap() : null);
            });
        }
    }
}
