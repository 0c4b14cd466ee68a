package dev.scopegate.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * Every error scopegate itself answers goes through here: a short plain-text body, never a stack
 * trace, and one log line naming the cause. Stateless; call on the event loop.
 */
public final class ErrorResponder {

    private static final Logger log = LoggerFactory.getLogger("scopegate.proxy");

    private ErrorResponder() {
    }

    /** A small plain-text response. */
    public static FullHttpResponse response(HttpResponseStatus status, String message) {
        ByteBuf body = Unpooled.copiedBuffer(message + "\n", StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN + "; charset=utf-8")
                .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        return response;
    }

    /**
     * Writes the error; with {@code close} the connection is closed once it is flushed.
     *
     * @param cause what went wrong, for the log (never echoed to the client)
     */
    static void send(ChannelHandlerContext ctx, HttpResponseStatus status, String message, boolean close, String cause) {
        if (status.code() >= 500) {
            log.warn("{} {} from {}: {}", status.code(), message, ctx.channel().remoteAddress(), cause);
        } else {
            log.info("{} {} from {}: {}", status.code(), message, ctx.channel().remoteAddress(), cause);
        }
        FullHttpResponse response = response(status, message);
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(response);
        }
    }
}
