package dev.scopegate.logging;

import dev.scopegate.oauth.AuditLog;
import dev.scopegate.proxy.AccessLog;
import dev.scopegate.proxy.route.RouteKind;

/**
 * A child JVM for {@link StdoutTargetTest}: logs {@code N} access lines and one audit line with
 * whatever Logback config {@code -Dlogback.configurationFile} names, then leaves main
 * ({@code return}) or calls {@code System.exit(3)} ({@code exit}), never stopping Logback itself.
 */
public final class LinesChild {

    private LinesChild() {
    }

    public static void main(String[] args) {
        int n = Integer.parseInt(args[0]);
        boolean json = args[2].equals("json");
        AccessLog access = new AccessLog(json, Lines::info);
        for (int i = 0; i < n; i++) {
            access.exchange("127.0.0.1", "GET", "/line/" + i, 200, 0, i, 1_000_000, 2_000_000, RouteKind.AUTHORIZE);
        }
        new AuditLog(false, Lines::info).rewrite("client-" + n, "chatgpt", "default", "worker:read", false, "authorize");
        if (args[1].equals("exit")) {
            System.exit(3);
        }
    }
}
