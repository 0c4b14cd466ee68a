package dev.scopegate.proxy;

import dev.scopegate.proxy.route.RouteKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request on the {@code scopegate.access} logger (routed to an asynchronous
 * appender by {@code logback.xml}). Only the path is logged, never the query (it carries codes
 * and state) nor any header. Each field is also attached as an SLF4J key-value pair, so the JSON
 * layout ({@code logging.json: true}) carries them as structured fields. Thread-safe.
 */
public final class AccessLog {

    private static final Logger log = LoggerFactory.getLogger("scopegate.access");

    public void exchange(String clientIp, String method, String path, int status, long bytesIn, long bytesOut,
                         long upstreamNanos, long totalNanos, RouteKind route) {
        if (!log.isInfoEnabled()) {
            return;
        }
        String shownPath = printable(path);
        Object shownStatus = status < 0 ? "aborted" : status;
        String upstreamMs = upstreamNanos < 0 ? "-" : millis(upstreamNanos);
        String totalMs = millis(totalNanos);
        log.atInfo()
                .addKeyValue("client_ip", clientIp).addKeyValue("method", method).addKeyValue("path", shownPath)
                .addKeyValue("status", shownStatus).addKeyValue("bytes_in", bytesIn).addKeyValue("bytes_out", bytesOut)
                .addKeyValue("upstream_ms", upstreamMs).addKeyValue("total_ms", totalMs)
                .addKeyValue("route", route.label())
                .log("{} \"{} {}\" {} in={} out={} upstream_ms={} total_ms={} route={}", clientIp, method, shownPath,
                        shownStatus, bytesIn, bytesOut, upstreamMs, totalMs, route.label());
    }

    public void refused(String clientIp, int status, String cause) {
        if (!log.isInfoEnabled()) {
            return;
        }
        String shownCause = printable(cause);
        log.atInfo().addKeyValue("client_ip", clientIp).addKeyValue("status", status).addKeyValue("refused", shownCause)
                .log("{} \"-\" {} refused: {}", clientIp, status, shownCause);
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
