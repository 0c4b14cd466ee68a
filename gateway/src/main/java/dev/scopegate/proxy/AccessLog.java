package dev.scopegate.proxy;

import dev.scopegate.proxy.route.RouteKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;

/**
 * One line per request on the {@code scopegate.access} logger (routed by {@code logback.xml} to a
 * buffered appender that costs the event loop a copy, no system call). Only the path is logged, never the query (it carries codes
 * and state) nor any header. Each field is also attached as an SLF4J key-value pair, so the JSON
 * layout ({@code logging.json: true}) carries them as structured fields. Thread-safe.
 *
 * <p>Formatting is here; where a text line goes is a {@link LineWriter} that the composition root
 * chooses ({@code dev.scopegate.logging.Lines::info}, the allocation-free path to the buffered
 * appender), so {@code proxy} knows SLF4J and no logging backend.
 */
public final class AccessLog {

    /**
     * Writes one INFO text line to the given logger. Declared here, implemented by the logging
     * backend's adapter (or {@code Logger::info}). Called on event loops: must not block.
     */
    @FunctionalInterface
    public interface LineWriter {
        void info(Logger log, String message);
    }

    private static final Logger log = LoggerFactory.getLogger("scopegate.access");
    /** The characters of a path a line shows; a longer one is cut and followed by {@code ...}. */
    private static final int MAX_SHOWN = 256;

    private final boolean structured;
    private final LineWriter lines;

    /** Text lines only (no key-value pairs), through {@code Logger.info}. */
    public AccessLog() {
        this(false, Logger::info);
    }

    /**
     * @param structured also attach every field as an SLF4J key-value pair, for the JSON layout;
     *                   off for the text layout, where they would only cost time per request
     * @param lines      where text lines go
     */
    public AccessLog(boolean structured, LineWriter lines) {
        this.structured = structured;
        this.lines = Objects.requireNonNull(lines, "lines");
    }

    /** Called on an event loop once per request: one preformatted message, no boxing. */
    public void exchange(String clientIp, String method, String path, int status, long bytesIn, long bytesOut,
                         long upstreamNanos, long totalNanos, RouteKind route) {
        if (!log.isInfoEnabled()) {
            return;
        }
        StringBuilder line = new StringBuilder(96 + (path == null ? 1 : Math.min(path.length(), MAX_SHOWN + 3)));
        line.append(clientIp).append(" \"").append(method).append(' ');
        appendPrintable(line, path);
        line.append("\" ");
        if (status < 0) {
            line.append("aborted");
        } else {
            line.append(status);
        }
        line.append(" in=").append(bytesIn).append(" out=").append(bytesOut).append(" upstream_ms=");
        if (upstreamNanos < 0) {
            line.append('-');
        } else {
            millis(line, upstreamNanos);
        }
        line.append(" total_ms=");
        millis(line, totalNanos);
        line.append(" route=").append(route.label());
        String message = line.toString();
        if (!structured) {
            lines.info(log, message);
            return;
        }
        String shownPath = printable(path);
        StringBuilder ms = new StringBuilder(8);
        log.atInfo()
                .addKeyValue("client_ip", clientIp).addKeyValue("method", method).addKeyValue("path", shownPath)
                .addKeyValue("status", status < 0 ? "aborted" : status).addKeyValue("bytes_in", bytesIn)
                .addKeyValue("bytes_out", bytesOut)
                .addKeyValue("upstream_ms", upstreamNanos < 0 ? "-" : millis(ms, upstreamNanos).toString())
                .addKeyValue("total_ms", millis(new StringBuilder(8), totalNanos).toString())
                .addKeyValue("route", route.label())
                .log(message);
    }

    public void refused(String clientIp, int status, String cause) {
        if (!log.isInfoEnabled()) {
            return;
        }
        String shownCause = printable(cause);
        log.atInfo().addKeyValue("client_ip", clientIp).addKeyValue("status", status).addKeyValue("refused", shownCause)
                .log("{} \"-\" {} refused: {}", clientIp, status, shownCause);
    }

    private static StringBuilder millis(StringBuilder b, long nanos) {
        long micros = nanos / 1000;
        return b.append(micros / 1000).append('.').append(micros % 1000 / 100);
    }

    /** {@link #printable} appended to {@code b} without building it first (a long target is cut, not copied twice). */
    private static void appendPrintable(StringBuilder b, String s) {
        if (s == null) {
            b.append('-');
            return;
        }
        int max = Math.min(s.length(), MAX_SHOWN);
        for (int i = 0; i < max; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"') {
                b.append(escape(s, max));
                return;
            }
        }
        if (s.length() > max) {
            b.append(s, 0, max).append("...");
        } else {
            b.append(s);
        }
    }

    /** Paths come from clients: keep log lines single-line and bounded. */
    static String printable(String s) {
        if (s == null) {
            return "-";
        }
        int max = Math.min(s.length(), MAX_SHOWN);
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
