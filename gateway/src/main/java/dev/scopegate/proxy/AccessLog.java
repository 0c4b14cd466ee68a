package dev.scopegate.proxy;

import dev.scopegate.proxy.route.RouteKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request on the {@code scopegate.access} logger (routed to an asynchronous
 * appender by {@code logback.xml}). Only the path is logged, never the query (it carries codes
 * and state) nor any header. Thread-safe.
 */
public final class AccessLog {

    private static final Logger log = LoggerFactory.getLogger("scopegate.access");

    public void exchange(String clientIp, String method, String path, int status, long bytesIn, long bytesOut,
                         long upstreamNanos, long totalNanos, RouteKind route) {
        if (!log.isInfoEnabled()) {
            return;
        }
        log.info("{} \"{} {}\" {} in={} out={} upstream_ms={} total_ms={} route={}", clientIp, method, printable(path),
                status < 0 ? "aborted" : status, bytesIn, bytesOut,
                upstreamNanos < 0 ? "-" : millis(upstreamNanos), millis(totalNanos), route.label());
    }

    public void refused(String clientIp, int status, String cause) {
        log.info("{} \"-\" {} refused: {}", clientIp, status, printable(cause));
    }

    private static String millis(long nanos) {
        long micros = nanos / 1000;
        return (micros / 1000) + "." + (micros % 1000 / 100);
    }

    /** Paths come from clients: keep log lines single-line and bounded. */
    static String printable(String s) {
        if (s == null) {
            return "-";
        }
        int max = Math.min(s.length(), 256);
        for (int i = 0; i < max; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"') {
                return escape(s, max);
            }
        }
        return s.length() > max ? s.substring(0, max) + "..." : s;
    }

    private static String escape(String s, int max) {
        StringBuilder b = new StringBuilder(max + 16);
        for (int i = 0; i < max; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"') {
                b.append(String.format("\\x%02x", (int) c & 0xff));
            } else {
                b.append(c);
            }
        }
        return s.length() > max ? b.append("...").toString() : b.toString();
    }
}
