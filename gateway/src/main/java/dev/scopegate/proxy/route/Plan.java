package dev.scopegate.proxy.route;

import io.netty.handler.codec.http.FullHttpResponse;

import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * What the frontend does with one request, decided from its head on the event loop.
 */
public sealed interface Plan {

    /** Stream the request to the upstream as it is (its head may have been changed in place). */
    record Forward(/* nullable */ ResponseTap tap) implements Plan {}

    /**
     * Read the whole body (at most {@code maxBytes}; more is answered 413), hand it to the
     * rewriter, then forward what it returns.
     */
    record BufferBody(int maxBytes, BodyRewriter rewriter, /* nullable */ ResponseTap tap) implements Plan {
        public BufferBody {
            Objects.requireNonNull(rewriter, "rewriter");
        }
    }

    /** Answer locally; nothing reaches the upstream. */
    record Respond(FullHttpResponse response) implements Plan {
        public Respond {
            Objects.requireNonNull(response, "response");
        }
    }

    /** The plan needs I/O first (store, metadata); it completes on any thread. */
    record Defer(CompletionStage<Plan> plan) implements Plan {
        public Defer {
            Objects.requireNonNull(plan, "plan");
        }
    }

    Forward FORWARD = new Forward(null);
}
