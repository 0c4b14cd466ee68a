package dev.scopegate.proxy.upstream;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;

/**
 * Receives what one upstream connection produces while it is bound to an exchange.
 * All calls happen on the connection's event loop, which is also the client connection's.
 */
public interface UpstreamListener {

    /** The final (non-1xx) response head. */
    void onResponseHead(HttpResponse response);

    /** A body part; ownership passes to the listener. {@code LastHttpContent} ends the response. */
    void onResponseContent(HttpContent content);

    /** The connection failed or closed before the response completed. */
    void onUpstreamFailure(Throwable cause);

    /** The upstream connection became writable again. */
    void onUpstreamWritable();

    /** A read from the upstream socket is complete: flush what was relayed from it. */
    default void onUpstreamReadComplete() {
    }
}
