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
        log.info("rewrite client_id={} family={} source={} scope=\"{}\" dry_run={} route={}",
                safe(clientId), family, source, scope, dryRun, route);
    }

    public void unresolved(String clientId, String family, String action, String route) {
        log.warn("unresolved client_id={} family={} action={} route={}", safe(clientId), family, action, route);
    }

    public void registration(String event, String clientId) {
        log.info("registration {} client_id={}", event, safe(clientId));
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
