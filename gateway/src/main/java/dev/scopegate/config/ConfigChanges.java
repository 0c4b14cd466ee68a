package dev.scopegate.config;

import dev.scopegate.config.ScopegateConfig.Admin;
import dev.scopegate.config.ScopegateConfig.Health;
import dev.scopegate.config.ScopegateConfig.Limits;
import dev.scopegate.config.ScopegateConfig.Logging;
import dev.scopegate.config.ScopegateConfig.Scope;
import dev.scopegate.config.ScopegateConfig.Upstream;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What differs between two configurations, as YAML key paths ({@code scope.default},
 * {@code upstream.max-connections}), and which of those settings only a restart applies.
 *
 * <p>Restart-only settings are those that the running process built something from once:
 * sockets ({@code listen.*}, {@code admin.host}, {@code admin.port}, {@code health.host},
 * {@code health.port}), the upstream pool
 * ({@code upstream.connect-timeout}, {@code upstream.max-connections}, {@code upstream.idle-timeout},
 * {@code upstream.tls}: which files; their contents are re-read when they change),
 * the HTTP decoder ({@code limits.max-header-bytes}, {@code limits.max-initial-line-bytes}), the
 * store and its cache ({@code store.*}, {@code cache.*}), the metadata fetcher
 * ({@code upstream.url}, {@code public-base-url}), the document and resource caches
 * ({@code scope.document.*}, {@code resources}) and the log layout ({@code logging.json}).
 * Everything else is read per request from the current snapshot. Stateless.
 */
public final class ConfigChanges {

    private static final List<String> RESTART_ONLY = List.of(
            "listen", "admin.host", "admin.port", "public-base-url", "upstream.url",
            "upstream.connect-timeout", "upstream.max-connections", "upstream.idle-timeout", "upstream.tls",
            "limits.max-header-bytes", "limits.max-initial-line-bytes", "store", "cache",
            "scope.document", "resources", "logging.json", "health.host", "health.port");

    /** Keys whose value is a secret: their values are never shown, only their names. */
    private static final List<String> SECRET = List.of("admin.token", "store.redis.uri", "store.redis.password");

    private ConfigChanges() {
    }

    /** The key paths whose values differ, in file order (records are compared field by field). */
    public static List<String> diff(ScopegateConfig before, ScopegateConfig after) {
        Objects.requireNonNull(before, "before");
        Objects.requireNonNull(after, "after");
        List<String> out = new ArrayList<>();
        diff("", before, after, out);
        return List.copyOf(out);
    }

    /** Whether a change of {@code key} (as returned by {@link #diff}) needs a restart. */
    public static boolean restartOnly(String key) {
        for (String k : RESTART_ONLY) {
            if (key.equals(k) || key.startsWith(k + ".")) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code key}'s value is a secret (print the key, never the value). */
    public static boolean secret(String key) {
        return SECRET.contains(key);
    }

    /**
     * {@code next} with every restart-only setting taken from {@code running}: the configuration a
     * reload may install without pretending to apply what it cannot.
     */
    public static ScopegateConfig pinRestartOnly(ScopegateConfig running, ScopegateConfig next) {
        Upstream ru = running.upstream();
        Upstream nu = next.upstream();
        Upstream upstream = new Upstream(ru.url(), ru.connectTimeout(), nu.responseTimeout(), nu.readTimeout(),
                ru.maxConnections(), ru.idleTimeout(), nu.rewriteHost(), ru.tls());
        Admin admin = new Admin(running.admin().host(), running.admin().port(), next.admin().token(),
                next.admin().tokenFile());
        Limits rl = running.limits();
        Limits nl = next.limits();
        Limits limits = new Limits(rl.maxHeaderBytes(), rl.maxInitialLineBytes(), nl.maxFormBytes(),
                nl.maxCaptureBytes());
        Scope ns = next.scope();
        Scope scope = new Scope(ns.trigger(), ns.sources(), ns.defaultScope(), ns.deny(), ns.onlySupported(),
                ns.acceptCommas(), ns.onUnresolved(), ns.offlineAccessPrompt(), ns.dryRun(), ns.clients(), ns.families(), ns.learn(),
                running.scope().document());
        Logging logging = new Logging(next.logging().access(), running.logging().json());
        Health health = new Health(running.health().host(), running.health().port(), next.health().storeRequired());
        return new ScopegateConfig(running.listen(), admin, running.publicBaseUrl(), next.trustedProxies(), upstream,
                next.routes(), next.metadata(), next.endpoints(), scope, running.resources(), limits, running.store(),
                running.cache(), logging, health);
    }

    private static void diff(String path, Object a, Object b, List<String> out) {
        if (Objects.equals(a, b)) {
            return;
        }
        if (a != null && b != null && a.getClass().isRecord() && a.getClass() == b.getClass()) {
            for (RecordComponent c : a.getClass().getRecordComponents()) {
                diff(child(path, c.getName()), value(c, a), value(c, b), out);
            }
            return;
        }
        out.add(path);
    }

    private static Object value(RecordComponent c, Object record) {
        try {
            return c.getAccessor().invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + c, e);
        }
    }

    /** The YAML key of a record component: kebab-case, {@code defaultScope} written {@code default}. */
    static String key(String component) {
        return component.equals("defaultScope") ? "default" : kebab(component);
    }

    private static String child(String parent, String component) {
        String key = key(component);
        return parent.isEmpty() ? key : parent + "." + key;
    }

    private static String kebab(String camel) {
        StringBuilder b = new StringBuilder(camel.length() + 4);
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c)) {
                b.append('-').append(Character.toLowerCase(c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
