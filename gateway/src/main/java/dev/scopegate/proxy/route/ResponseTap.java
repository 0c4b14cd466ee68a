package dev.scopegate.proxy.route;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;

import java.util.concurrent.CompletionStage;

/**
 * Observes the upstream's response to one request. Called on the event loop.
 */
public interface ResponseTap {

    /**
     * The response head arrived. Return how many body bytes to capture before anything is
     * relayed (0: relay as usual, only observing the head).
     */
    int onHead(HttpResponse head);

    /**
     * The whole body fit under the cap returned by {@link #onHead}. Nothing has been relayed yet;
     * the frontend relays the unchanged bytes once the stage completes normally, and answers 502
     * when it fails (e.g. a registration that could not be persisted).
     *
     * @param body owned by the caller, valid until the stage completes
     */
    CompletionStage<Void> onBody(HttpResponse head, ByteBuf body);

    /** The body was larger than the cap and is relayed uncaptured. */
    default void onOverCap(HttpResponse head) {
    }
}
