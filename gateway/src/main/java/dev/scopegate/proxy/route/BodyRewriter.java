package dev.scopegate.proxy.route;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;

import java.util.concurrent.CompletionStage;

/** Decides on a fully read request body (form routes). Called on the event loop. */
public interface BodyRewriter {

    /**
     * @param head the request head (may be changed in place)
     * @param body the whole body; still owned by the caller, valid until the stage completes
     */
    CompletionStage<Result> onBody(HttpRequest head, ByteBuf body);

    /** What to do after reading the body. */
    sealed interface Result {
        /** Forward the original body unchanged. */
        record Unchanged() implements Result {}

        /**
         * Forward these bytes instead (Content-Length is set by the frontend); {@code tap}
         * (nullable) also observes the response, before the plan's own tap.
         */
        record Replace(byte[] body, /* nullable */ ResponseTap tap) implements Result {
            public Replace(byte[] body) {
                this(body, null);
            }
        }

        /** Answer locally. */
        record Reply(FullHttpResponse response) implements Result {}
    }

    Result UNCHANGED = new Result.Unchanged();
}
