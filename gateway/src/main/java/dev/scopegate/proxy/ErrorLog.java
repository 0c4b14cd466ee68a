package dev.scopegate.proxy;

import io.netty.channel.ChannelHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/** Log lines of the proxy path, in one place so each fault is logged once and the same way. */
final class ErrorLog {

    private static final Logger log = LoggerFactory.getLogger("scopegate.proxy");

    private ErrorLog() {
    }

    static void clientError(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("client connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        } else {
            log.info("client connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        }
    }

    static void exchangeError(ChannelHandlerContext ctx, int status, String method, String path, String cause) {
        String safePath = AccessLog.printable(path);
        if (status < 0) {
            log.warn("aborted {} {} from {}: {}", method, safePath, ctx.channel().remoteAddress(), cause);
        } else if (status >= 500) {
            log.warn("{} for {} {} from {}: {}", status, method, safePath, ctx.channel().remoteAddress(), cause);
        } else {
            log.info("{} for {} {} from {}: {}", status, method, safePath, ctx.channel().remoteAddress(), cause);
        }
    }

    static void bug(String what, Throwable error) {
        log.error("{}", what, error);
    }

    static void tapFailed(Throwable error) {
        log.error("could not keep a captured response (answered 502): {}", error.toString());
    }
}
