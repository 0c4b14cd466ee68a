package dev.scopegate.proxy.route;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;

import java.util.concurrent.CompletionStage;

/** Combining {@link ResponseTap}s. Stateless. */
public final class ResponseTaps {

    private ResponseTaps() {
    }

    /**
     * A tap that shows each head to {@code first}, then to {@code then} (which may change it, e.g.
     * amend {@code Location}); the body capture is {@code first}'s alone, so {@code then} must only
     * observe heads. Either may be null.
     */
    public static /* nullable */ ResponseTap both(/* nullable */ ResponseTap first, /* nullable */ ResponseTap then) {
        if (first == null) {
            return then;
        }
        if (then == null) {
            return first;
        }
        return new ResponseTap() {
            @Override
            public int onHead(HttpResponse head) {
                int cap = first.onHead(head);
                then.onHead(head);
                return cap;
            }

            @Override
            public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
                return first.onBody(head, body);
            }

            @Override
            public void onOverCap(HttpResponse head) {
                first.onOverCap(head);
            }
        };
    }
}
