package dev.scopegate.proxy;

import dev.scopegate.proxy.codec.RequestTarget;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;

import java.util.Iterator;

/**
 * Decides whether a request head may become an exchange: version, Host count, method, target
 * bytes, absolute-form, {@code Expect}. A refused request is answered with the connection closed
 * (its framing is suspect). Stateless, allocation-free for an accepted request; any thread.
 */
final class RequestGate {

    /** Why a request is refused: the status and text sent, the logged cause, the metric's reason. */
    record Refusal(HttpResponseStatus status, String message, String cause, String reason) {
    }

    private static final Refusal CONNECT = new Refusal(HttpResponseStatus.METHOD_NOT_ALLOWED, "Method Not Allowed", "CONNECT", "method");
    private static final Refusal BAD_TARGET = new Refusal(HttpResponseStatus.BAD_REQUEST, "Bad Request: invalid request target", "request target", "target");
    private static final Refusal UNSUPPORTED_TARGET = new Refusal(HttpResponseStatus.BAD_REQUEST, "Bad Request: unsupported request target", "request target", "target");
    private static final Refusal EXPECTATION = new Refusal(HttpResponseStatus.EXPECTATION_FAILED, "Expectation Failed", "unsupported expectation", "expectation");

    private RequestGate() {
    }

    /**
     * The refusal of {@code request}, or null when it may go on. An accepted absolute-form target
     * is turned into origin-form in place, its authority replacing Host (RFC 9112 §3.2.2).
     */
    static Refusal check(HttpRequest request) {
        if (request.decoderResult().isFailure()) {
            return malformed(request.decoderResult().cause());
        }
        HttpHeaders headers = request.headers();
        HttpVersion version = request.protocolVersion();
        if (version.majorVersion() != 1) { // e.g. "HTTP/2.0" in an HTTP/1 request line: not forwarded as 1.1
            return new Refusal(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, "HTTP Version Not Supported", "version " + version, "version");
        }
        int hosts = count(headers, HttpHeaderNames.HOST);
        if (hosts > 1 || (hosts == 0 && version.minorVersion() >= 1)) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "Bad Request: exactly one Host header is required", "host header count " + hosts, "host");
        }
        if (HttpMethod.CONNECT.equals(request.method())) {
            return CONNECT;
        }
        String uri = request.uri();
        if (!RequestTarget.isValid(uri)) { // as sent, before toOriginForm copies an authority into Host
            return BAD_TARGET;
        }
        if (!uri.startsWith("/") && !toOriginForm(request)) {
            return UNSUPPORTED_TARGET;
        }
        String expect = headers.get(HttpHeaderNames.EXPECT);
        if (expect != null && version.minorVersion() >= 1 && !HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.trim())) {
            return EXPECTATION;
        }
        return null;
    }

    /**
     * Takes {@code Expect} off an accepted request (this hop's business, RFC 9110 §10.1.1); true
     * when the client waits for a {@code 100 Continue}, sent when this request's turn comes.
     */
    static boolean takeExpectContinue(HttpRequest request) {
        if (!request.headers().contains(HttpHeaderNames.EXPECT)) {
            return false;
        }
        request.headers().remove(HttpHeaderNames.EXPECT);
        return request.protocolVersion().minorVersion() >= 1;
    }

    /** The refusal of a head the decoder could not read. */
    static Refusal malformed(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return new Refusal(HttpResponseStatus.REQUEST_URI_TOO_LONG, "URI Too Long", cause.getMessage(), "uri-too-long");
        } else if (cause instanceof TooLongHttpHeaderException) {
            return new Refusal(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Request Header Fields Too Large", cause.getMessage(), "headers-too-large");
        } else if (cause instanceof TooLongFrameException) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "Bad Request", cause.getMessage(), "too-long");
        }
        return new Refusal(HttpResponseStatus.BAD_REQUEST, "Bad Request: malformed HTTP message", String.valueOf(cause.getMessage()), "malformed");
    }

    static String pathOf(String uri) {
        int q = uri.indexOf('?');
        return q < 0 ? uri : uri.substring(0, q);
    }

    private static int count(HttpHeaders headers, CharSequence name) {
        int n = 0;
        for (Iterator<? extends CharSequence> it = headers.valueCharSequenceIterator(name); it.hasNext(); it.next()) {
            n++;
        }
        return n;
    }

    /** absolute-form (RFC 9112 §3.2.2): the target's authority replaces Host; false when unsupported. */
    private static boolean toOriginForm(HttpRequest request) {
        String uri = request.uri();
        int scheme = uri.indexOf("://");
        if (!(scheme == 4 && uri.regionMatches(true, 0, "http", 0, 4))
                && !(scheme == 5 && uri.regionMatches(true, 0, "https", 0, 5))) {
            return false;
        }
        int authorityStart = scheme + 3;
        int pathStart = authorityStart;
        while (pathStart < uri.length() && uri.charAt(pathStart) != '/' && uri.charAt(pathStart) != '?') {
            pathStart++;
        }
        String authority = uri.substring(authorityStart, pathStart);
        if (authority.isEmpty() || authority.indexOf('@') >= 0) {
            return false;
        }
        String rest = pathStart == uri.length() ? "/" : uri.charAt(pathStart) == '?' ? "/" + uri.substring(pathStart) : uri.substring(pathStart);
        request.setUri(rest);
        request.headers().set(HttpHeaderNames.HOST, authority);
        return true;
    }
}
