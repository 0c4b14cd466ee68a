package dev.scopegate.proxy.route;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.util.Locale;

/** The HTTP tests and local answers the routes share. Stateless. */
final class Http {

    private Http() {
    }

    /** The request body is {@code application/x-www-form-urlencoded}. */
    static boolean isForm(HttpRequest request) {
        String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, "application/x-www-form-urlencoded", 0, 33);
    }

    /** The response body is JSON ({@code application/json} or {@code application/…+json}). */
    static boolean isJson(HttpResponse head) {
        String type = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
        if (type == null) {
            return false;
        }
        String t = type.toLowerCase(Locale.ROOT);
        return t.startsWith("application/json") || (t.startsWith("application/") && t.contains("+json"));
    }

    /** A cacheable document answered locally (metadata). */
    static FullHttpResponse document(HttpResponseStatus status, byte[] body, /* nullable */ String contentType) {
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        resp.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType == null ? "application/json" : contentType)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, "public, max-age=300");
        return resp;
    }
}
