package dev.scopegate.oauth;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;

/**
 * One line per scope decision that changed (or would change) a request, or found nothing, on
 * the {@code scopegate.audit} logger so operators can route it. Carries no secret: client_id,
 * family, source and the scopes only. With the JSON layout each field is also attached as an
 * SLF4J key-value pair. Thread-safe.
 *
 * <p>Formatting is here; where a text line goes is a {@link LineWriter} that the composition root
 * chooses ({@code dev.scopegate.logging.Lines::info}, the allocation-free path to the buffered
 * appender), so {@code oauth} knows SLF4J and no logging backend.
 */
public final class AuditLog {

    /**
     * Writes one INFO text line to the given logger. Declared here, implemented by the logging
     * backend's adapter (or {@code Logger::info}). Called on event loops: must not block.
     */
    @FunctionalInterface
    public interface LineWriter {
        void info(Logger log, String message);
    }

    private static final Logger log = LoggerFactory.getLogger("scopegate.audit");

    private final boolean structured;
    private final LineWriter lines;
    /**
     * Recent rewrite lines, by the identity of their parts: a client's repeated requests bring the
     * same client_id (from the {@code ParamCache}), family and scope strings, so its line is built
     * once. Direct-mapped; racy reads are safe (entries are immutable).
     */
    private final RewriteLine[] recent = new RewriteLine[64];

    private record RewriteLine(String clientId, String family, String source, String scope, boolean dryRun,
                               String route, String message) {
        boolean is(String c, String f, String so, String sc, boolean d, String r) {
            return clientId == c && family == f && source == so && scope == sc && dryRun == d && route == r;
        }
    }

    /** Text lines only (no key-value pairs), through {@code Logger.info}. */
    public AuditLog() {
        this(false, Logger::info);
    }

    /**
     * @param structured also attach every field as an SLF4J key-value pair, for the JSON layout;
     *                   off for the text layout, where they would only cost time per rewrite
     * @param lines      where text lines go
     */
    public AuditLog(boolean structured, LineWriter lines) {
        this.structured = structured;
        this.lines = Objects.requireNonNull(lines, "lines");
    }

    /** Called on an event loop for every rewrite: one preformatted message, no varargs, no boxing. */
    public void rewrite(String clientId, String family, String source, String scope, boolean dryRun, String route) {
        if (!log.isInfoEnabled()) {
            return;
        }
        if (structured) {
            String id = safe(clientId);
            log.atInfo().addKeyValue("event", "rewrite").addKeyValue("client_id", id).addKeyValue("family", family)
                    .addKeyValue("source", source).addKeyValue("scope", scope).addKeyValue("dry_run", dryRun)
                    .addKeyValue("route", route)
                    .log(rewriteMessage(id, family, source, scope, dryRun, route));
            return;
        }
        int slot = (System.identityHashCode(clientId) ^ System.identityHashCode(scope)) & (recent.length - 1);
        RewriteLine line = recent[slot];
        if (line == null || !line.is(clientId, family, source, scope, dryRun, route)) {
            line = new RewriteLine(clientId, family, source, scope, dryRun, route,
                    rewriteMessage(safe(clientId), family, source, scope, dryRun, route));
            recent[slot] = line;
        }
        lines.info(log, line.message());
    }

    private static String rewriteMessage(String id, String family, String source, String scope, boolean dryRun,
                                         String route) {
        return "rewrite client_id=" + id + " family=" + family + " source=" + source + " scope=\"" + scope
                + "\" dry_run=" + dryRun + " route=" + route;
    }

    public void unresolved(String clientId, String family, String action, boolean dryRun, String route) {
        if (!log.isWarnEnabled()) {
            return;
        }
        String id = safe(clientId);
        String message = "unresolved client_id=" + id + " family=" + family + " action=" + action + " dry_run="
                + dryRun + " route=" + route;
        if (!structured) {
            log.warn(message);
            return;
        }
        log.atWarn().addKeyValue("event", "unresolved").addKeyValue("client_id", id).addKeyValue("family", family)
                .addKeyValue("action", action).addKeyValue("dry_run", dryRun).addKeyValue("route", route)
                .log(message);
    }

    /**
     * {@code scope.add-always} extended a request's own scope by {@code added} (or would have, in
     * dry-run): the one rewrite of a request that carried a scope.
     */
    public void addAlways(String clientId, String family, String added, boolean dryRun, String route) {
        event("add-always", "add-always client_id=" + safe(clientId) + " family=" + family + " added=\"" + added
                + "\" dry_run=" + dryRun + " route=" + route, false);
    }

    /**
     * The IdP rejected with {@code invalid_scope} the scope scopegate added from {@code source}:
     * that candidate is demoted for this client.
     */
    public void demoted(String clientId, String family, String source, String scope, String route) {
        event("demoted", "demoted client_id=" + safe(clientId) + " family=" + family + " source=" + source
                + " scope=\"" + scope + "\" route=" + route, true);
    }

    private void event(String event, String message, boolean warn) {
        if (warn ? !log.isWarnEnabled() : !log.isInfoEnabled()) {
            return;
        }
        if (!structured) {
            if (warn) {
                log.warn(message);
            } else {
                lines.info(log, message);
            }
            return;
        }
        (warn ? log.atWarn() : log.atInfo()).addKeyValue("event", event).log(message);
    }

    public void registration(String event, String clientId) {
        if (!log.isInfoEnabled()) {
            return;
        }
        String id = safe(clientId);
        String message = "registration " + event + " client_id=" + id;
        if (!structured) {
            lines.info(log, message);
            return;
        }
        log.atInfo().addKeyValue("event", "registration-" + event).addKeyValue("client_id", id).log(message);
    }

    /**
     * {@code scope.fill-registration} gave a registration request without scope {@code scope} from
     * {@code source} (not added in dry-run). No client_id exists yet: the family names the client.
     */
    public void registrationScope(String family, String source, String scope, boolean dryRun) {
        if (!log.isInfoEnabled()) {
            return;
        }
        String message = "registration-scope family=" + family + " source=" + source + " scope=\"" + safe(scope)
                + "\" dry_run=" + dryRun;
        if (!structured) {
            lines.info(log, message);
            return;
        }
        log.atInfo().addKeyValue("event", "registration-scope").addKeyValue("family", family)
                .addKeyValue("source", source).addKeyValue("scope", scope).addKeyValue("dry_run", dryRun).log(message);
    }

    static String safe(String s) {
        if (s == null) {
            return "-";
        }
        StringBuilder b = null;
        int max = Math.min(s.length(), 200);
        for (int i = 0; i < max; i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7e || c == '"') {
                if (b == null) {
                    b = new StringBuilder(s.substring(0, i));
                }
                b.append('_');
            } else if (b != null) {
                b.append(c);
            }
        }
        String out = b == null ? s.substring(0, max) : b.toString();
        return s.length() > max ? out + "..." : out;
    }
}
