package dev.scopegate.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The one place that knows which headers are hop-by-hop (RFC 9110 §7.6.1) and strips them from
 * a message a proxy forwards, including every header named in {@code Connection}. Framing
 * ({@code Transfer-Encoding}) is removed too; the caller re-establishes it for the next hop.
 */
final class HopByHopHeaders {

    private static final AsciiString[] ALWAYS = {
            HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, AsciiString.cached("proxy-connection"),
            HttpHeaderNames.TE, HttpHeaderNames.TRAILER, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE,
    };

    private HopByHopHeaders() {
    }

    static void strip(HttpHeaders headers) {
        if (!anyHopByHop(headers)) {
            return; // the common case: one pass over a few names instead of a removal per name
        }
        List<String> connection = headers.contains(HttpHeaderNames.CONNECTION)
                ? headers.getAll(HttpHeaderNames.CONNECTION) : List.of(); // most messages have none
        for (int i = 0; i < connection.size(); i++) {
            String value = connection.get(i);
            int start = 0;
            while (start <= value.length()) {
                int comma = value.indexOf(',', start);
                int end = comma < 0 ? value.length() : comma;
                String token = value.substring(start, end).trim();
                if (!token.isEmpty() && !isProtected(token)) {
                    headers.remove(token);
                }
                start = end + 1;
            }
        }
        for (AsciiString name : ALWAYS) {
            headers.remove(name);
        }
    }

    private static boolean anyHopByHop(HttpHeaders headers) {
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            if (isAlways(it.next().getKey())) {
                return true;
            }
        }
        return false;
    }

    /** One of {@link #ALWAYS} (which includes {@code Connection}, so any header it names is found too). */
    static boolean isAlways(CharSequence name) {
        int n = name.length();
        if (n != 2 && n != 7 && n != 10 && n != 16 && n != 17) {
            return false;
        }
        for (AsciiString always : ALWAYS) {
            if (always.length() == n && always.contentEqualsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }

    /** A client must not be able to make the proxy drop the message's framing or target. */
    private static boolean isProtected(String token) {
        return HttpHeaderNames.HOST.contentEqualsIgnoreCase(token)
                || HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(token);
    }
}
