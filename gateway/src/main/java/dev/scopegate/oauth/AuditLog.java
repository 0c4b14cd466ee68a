package dev.scopegate.oauth;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per scope decision that changed (or would change) a request, or found nothing, on
 * the {@code scopegate.audit} logger so operators can route it. Carries no secret: client_id,
 * family, source and the scopes only. Thread-safe.
 */
public final class AuditLog {

    private static final Logger log = LoggerFactory.getLogger("scopegate.audit");

    public void rewrite(String clientId, String family, String source, String scope, boolean dryRun, String route) {
        if (!log.isInfoEnabled()) {
            return;
        }
        String id = safe(clientId);
        log.atInfo().addKeyValue("event", "rewrite").addKeyValue("client_id", id).addKeyValue("family", family)
                .addKeyValue("source", source).addKeyValue("scope", scope).addKeyValue("dry_run", dryRun)
                .addKeyValue("route", route)
                .log("rewrite client_id={} family={} source={} scope=\"{}\" dry_run={} route={}",
                        id, family, source, scope, dryRun, route);
    }

    public void unresolved(String clientId, String family, String action, boolean dryRun, String route) {
        if (!log.isWarnEnabled()) {
            return;
        }
        String id = safe(clientId);
        log.atWarn().addKeyValue("event", "unresolved").addKeyValue("client_id", id).addKeyValue("family", family)
                .addKeyValue("action", action).addKeyValue("dry_run", dryRun).addKeyValue("route", route)
                .log("unresolved client_id={} family={} action={} dry_run={} route={}", id, family, action, dryRun, route);
    }

    public void registration(String event, String clientId) {
        if (!log.isInfoEnabled()) {
            return;
        }
        String id = safe(clientId);
        log.atInfo().addKeyValue("event", "registration-" + event).addKeyValue("client_id", id)
                .log("registration {} client_id={}", event, id);
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
