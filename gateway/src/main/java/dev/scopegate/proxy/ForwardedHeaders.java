package dev.scopegate.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.net.InetAddress;
import java.util.List;

/**
 * The {@code X-Forwarded-For/Proto/Host} and {@code Host} headers a request carries upstream.
 * Values a client sent are kept (and {@code For} extended) only when the client is a trusted
 * proxy; otherwise they are replaced by what this hop knows. Stateless; any thread.
 */
final class ForwardedHeaders {

    static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");

    private ForwardedHeaders() {
    }

    /**
     * Sets the forwarded headers of {@code h} (a request head going to {@code target}) for a client
     * at {@code clientAddress} (null when unknown, never trusted) printed as {@code clientIp}.
     */
    static void apply(HttpHeaders h, InetAddress clientAddress, String clientIp, ProxySettings settings,
                      ProxySettings.Target target) {
        String host = h.get(HttpHeaderNames.HOST);
        boolean trusted = clientAddress != null && !settings.trustedProxies().isEmpty() && settings.trusted(clientAddress);
        String xff = trusted ? joined(h, X_FORWARDED_FOR) : null;
        h.set(X_FORWARDED_FOR, xff == null ? clientIp : xff + ", " + clientIp);
        String proto = trusted ? h.get(X_FORWARDED_PROTO) : null;
        h.set(X_FORWARDED_PROTO, proto != null ? proto
                : settings.publicProto() != null ? settings.publicProto() : settings.tlsListener() ? "https" : "http");
        String fwdHost = trusted ? h.get(X_FORWARDED_HOST) : null;
        h.set(X_FORWARDED_HOST, fwdHost != null ? fwdHost
                : settings.publicHost() != null ? settings.publicHost() : host != null ? host : target.origin().authority());
        if (target.rewriteHost() || host == null) {
            h.set(HttpHeaderNames.HOST, target.origin().authority());
        }
    }

    private static String joined(HttpHeaders h, CharSequence name) {
        List<String> all = h.getAll(name);
        return all.isEmpty() ? null : all.size() == 1 ? all.get(0) : String.join(", ", all);
    }
}
