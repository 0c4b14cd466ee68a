package dev.scopegate.proxy;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Makes a response head fit for the client it goes to: hop-by-hop headers, body framing
 * (length, chunked, or close-delimited), {@code Connection}, and the HTTP version. The answer
 * is a bit set ({@link #CLOSE_AFTER}, {@link #CLOSE_DELIMITED}) so that no object is made per
 * response. Stateless; any thread.
 */
final class ResponseFraming {

    /** The client connection closes after this response. */
    static final int CLOSE_AFTER = 1;
    /** The client's body ends where its connection closes (no length, not chunked). */
    static final int CLOSE_DELIMITED = 2;

    private ResponseFraming() {
    }

    /**
     * Rewrites an upstream's {@code response} head in place.
     *
     * @param headRequest  the request was {@code HEAD} (no body follows whatever the head says)
     * @param http10Client the client spoke HTTP/1.0
     * @param keepAlive    the client's connection may stay open (its wish, and not draining)
     * @param closeAnyway  the connection closes after this response regardless (e.g. its request body is unread)
     */
    static int prepare(HttpResponse response, boolean headRequest, boolean http10Client, boolean keepAlive,
                       boolean closeAnyway) {
        HttpHeaders h = response.headers();
        boolean chunked = HttpUtil.isTransferEncodingChunked(response);
        HopByHopHeaders.strip(h);
        int code = response.status().code();
        boolean bodyless = headRequest || code == 204 || code == 304;
        boolean close = closeAnyway;
        if (chunked) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        } else if (!bodyless && !h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            // close-delimited upstream body: chunk it for HTTP/1.1 clients, else close after it
            if (http10Client || !keepAlive) {
                close = true;
            } else {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        }
        close = connection(h, http10Client, keepAlive, close);
        if (http10Client) {
            response.setProtocolVersion(HttpVersion.HTTP_1_0);
            if (chunked || h.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
                h.remove(HttpHeaderNames.TRANSFER_ENCODING);
                close = true;
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
        } else {
            response.setProtocolVersion(HttpVersion.HTTP_1_1);
        }
        boolean closeDelimited = !bodyless && !h.contains(HttpHeaderNames.CONTENT_LENGTH)
                && !h.contains(HttpHeaderNames.TRANSFER_ENCODING);
        return (close ? CLOSE_AFTER : 0) | (closeDelimited ? CLOSE_DELIMITED : 0);
    }

    /** Frames a response made here (its whole body known); answers {@link #CLOSE_AFTER} or 0. */
    static int prepareLocal(FullHttpResponse response, boolean http10Client, boolean keepAlive, boolean closeAnyway) {
        HttpHeaders h = response.headers();
        if (!h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            h.set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        }
        boolean close = connection(h, http10Client, keepAlive, closeAnyway);
        response.setProtocolVersion(http10Client ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1);
        return close ? CLOSE_AFTER : 0;
    }

    /**
     * After a captured body was aggregated its length is known (RFC 9110 §8.6 forbids
     * Content-Length on 204, and HEAD/304 keep the upstream's).
     */
    static void setAggregatedLength(HttpResponse head, boolean headRequest, int length) {
        int code = head.status().code();
        if (code != 204 && code != 304 && !headRequest) {
            head.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
            head.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
        }
    }

    private static boolean connection(HttpHeaders h, boolean http10Client, boolean keepAlive, boolean close) {
        if (!keepAlive || close) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            return true;
        }
        if (http10Client) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        return false;
    }
}
