package dev.scopegate.config;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The effective configuration (what the process runs: file values, defaults filled in, secret
 * files read) as plain values — maps keyed by the YAML key names, lists, strings, numbers,
 * booleans, null — for {@code GET /admin/config}. Nothing secret survives:
 *
 * <ul>
 *   <li>a text value whose key is named {@code token}, {@code password} or {@code secret} (or ends
 *       so: {@code client-secret}) becomes {@code "***"} when it is set, so an operator sees that
 *       one is in effect but never its value; {@code *-file} keys show their path;
 *   <li>credentials in a URL ({@code redis://user:pw@host}) become {@code ***@}.
 * </ul>
 *
 * The rule goes by name so that a key added later is redacted without anyone remembering to;
 * {@link #NOT_SECRET} lists the few keys that are so named but hold no secret. Durations are
 * written as the file writes them ({@code 5m}, {@code 500ms}), choices in kebab-case. Stateless.
 */
public final class ConfigView {

    /** Keys named like a secret that are not one: {@code endpoints.token} is the token endpoint's path. */
    static final Set<String> NOT_SECRET = Set.of("endpoints.token");

    private ConfigView() {
    }

    /** The redacted tree of {@code config}, in file order; a new mutable map on each call. */
    public static Map<String, Object> of(ScopegateConfig config) {
        @SuppressWarnings("unchecked")
        Map<String, Object> tree = (Map<String, Object>) value("", config);
        return tree;
    }

    private static Object value(String path, Object v) {
        if (v == null || v instanceof Boolean || v instanceof Number) {
            return v;
        }
        if (v instanceof String s) {
            return s.contains("://") ? Secrets.maskUserInfo(s) : s;
        }
        if (v instanceof URI u) {
            return Secrets.maskUserInfo(u.toString());
        }
        if (v instanceof Duration d) {
            return duration(d);
        }
        if (v instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
        if (v instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) {
                out.add(value(Problems.index(path, i), list.get(i)));
            }
            return out;
        }
        if (v instanceof Map<?, ?> map) {
            // Keys of a map are data (client_ids), not config keys: the values are shown as values.
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, x) -> out.put(String.valueOf(k), value(path, x)));
            return out;
        }
        if (v.getClass().isRecord() && !(v instanceof Cidr)) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (RecordComponent c : v.getClass().getRecordComponents()) {
                String key = ConfigChanges.key(c);
                String childPath = path.isEmpty() ? key : path + "." + key;
                Object child = component(c, v);
                out.put(key, secret(childPath, child) ? Secrets.MASK : value(childPath, child));
            }
            return out;
        }
        return v.toString();
    }

    /** A set text value under a key named like a secret. */
    static boolean secret(String path, Object value) {
        if (!(value instanceof String s) || s.isEmpty() || NOT_SECRET.contains(path)) {
            return false;
        }
        String name = path.substring(path.lastIndexOf('.') + 1);
        return name.equals("token") || name.equals("password") || name.equals("secret")
                || name.endsWith("-token") || name.endsWith("-password") || name.endsWith("-secret");
    }

    /** {@code 5m}, {@code 30d}, {@code 1500ms}: the largest unit that writes it exactly, as the file would. */
    static String duration(Duration d) {
        long ms = d.toMillis();
        long[] units = {86_400_000L, 3_600_000L, 60_000L, 1000L};
        String[] names = {"d", "h", "m", "s"};
        if (ms == 0) {
            return "0s";
        }
        for (int i = 0; i < units.length; i++) {
            if (ms % units[i] == 0) {
                return ms / units[i] + names[i];
            }
        }
        return ms + "ms";
    }

    private static Object component(RecordComponent c, Object record) {
        try {
            return c.getAccessor().invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + c, e);
        }
    }
}
