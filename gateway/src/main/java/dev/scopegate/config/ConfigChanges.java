package dev.scopegate.config;

import java.lang.annotation.Annotation;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What differs between two configurations, as YAML key paths ({@code scope.default},
 * {@code upstream.max-connections}), and which of those settings only a restart applies.
 *
 * <p>Restart-only settings are those that the running process built something from once (sockets,
 * the upstream pool, the HTTP decoder, the store and its caches, the metadata fetcher, the log
 * layout). They are not listed here: they are the components marked {@link Schema.Restart} in
 * {@link ScopegateConfig} (a mark covers the whole subtree), and {@link #RESTART_ONLY} is computed
 * from them, as are the secrets ({@link Schema.Secret}). Everything else is read per request from
 * the current snapshot. Stateless.
 */
public final class ConfigChanges {

    /** The key paths marked {@code @Restart}, in file order; a key below one of them needs a restart too. */
    static final List<String> RESTART_ONLY = paths(ScopegateConfig.class, "", Schema.Restart.class, new ArrayList<>());

    /** Keys whose value is a secret: their values are never shown, only their names. */
    private static final List<String> SECRET = paths(ScopegateConfig.class, "", Schema.Secret.class, new ArrayList<>());

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
            if (key.equals(k) || key.startsWith(k + ".") || key.startsWith(k + "[")) {
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
        return pin(running, next);
    }

    /** A record of {@code next}'s values except the {@code @Restart} components (and below), taken from {@code running}. */
    private static <R> R pin(R running, R next) {
        RecordComponent[] cs = running.getClass().getRecordComponents();
        Object[] args = new Object[cs.length];
        Class<?>[] types = new Class<?>[cs.length];
        for (int i = 0; i < cs.length; i++) {
            RecordComponent c = cs[i];
            types[i] = c.getType();
            Object r = value(c, running);
            Object n = value(c, next);
            args[i] = c.isAnnotationPresent(Schema.Restart.class) ? r
                    : RecordBinder.isSection(c.getType()) ? pin(r, n) : n;
        }
        try {
            @SuppressWarnings("unchecked")
            R pinned = (R) running.getClass().getDeclaredConstructor(types).newInstance(args);
            return pinned;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build " + running.getClass().getSimpleName(), e);
        }
    }

    /** The key paths below {@code type} whose component carries {@code mark} (nested records followed, lists not). */
    private static List<String> paths(Class<?> type, String parent, Class<? extends Annotation> mark, List<String> out) {
        for (RecordComponent c : type.getRecordComponents()) {
            String path = parent.isEmpty() ? key(c) : parent + "." + key(c);
            if (c.isAnnotationPresent(mark)) {
                out.add(path);
            } else if (RecordBinder.isSection(c.getType())) {
                paths(c.getType(), path, mark, out);
            }
        }
        return List.copyOf(out);
    }

    private static void diff(String path, Object a, Object b, List<String> out) {
        if (Objects.equals(a, b)) {
            return;
        }
        if (a != null && b != null && a.getClass().isRecord() && a.getClass() == b.getClass()) {
            for (RecordComponent c : a.getClass().getRecordComponents()) {
                diff(child(path, c), value(c, a), value(c, b), out);
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

    /** The YAML key of a record component: kebab-case unless {@link Schema.Name} says otherwise. */
    static String key(RecordComponent c) {
        return RecordBinder.key(c);
    }

    private static String child(String parent, RecordComponent c) {
        return parent.isEmpty() ? key(c) : parent + "." + key(c);
    }
}
