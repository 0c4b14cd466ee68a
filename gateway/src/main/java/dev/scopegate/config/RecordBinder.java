package dev.scopegate.config;

import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.scopegate.config.Problems.Mark;
import dev.scopegate.config.YamlNode.Entry;
import dev.scopegate.config.YamlNode.Kind;
import dev.scopegate.config.YamlNode.Mapping;
import dev.scopegate.config.YamlNode.Scalar;
import dev.scopegate.config.YamlNode.Sequence;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Binds a {@link YamlNode} tree onto a record type by reflection over its components, as the
 * annotations of {@link Schema} say: key names, defaults, nullability, ranges and text rules. A bad
 * value is reported to {@link Problems} and replaced by its default so that binding goes on and
 * later errors are found in the same pass; unknown keys are reported with a "did you mean".
 * After each record is built, {@link Hook} sees it with its {@link Section} for the checks that are
 * not about one value (files, pairs of keys, duplicates). Not thread-safe: one per load.
 */
final class RecordBinder {

    /** Checks across keys of one record; returns the record to keep (possibly with computed values). */
    interface Hook {
        Object check(Object record, Section section);
    }

    private static final Map<RecordComponent, Optional<Object>> DEFAULTS = new ConcurrentHashMap<>();

    private final Interpolator interpolator;
    private final Problems problems;
    private final Hook hook;

    RecordBinder(Interpolator interpolator, Problems problems, Hook hook) {
        this.interpolator = interpolator;
        this.problems = problems;
        this.hook = hook;
    }

    /** @param root the document's root, or null for an empty document */
    <R extends Record> R bind(YamlNode root, Class<R> type) {
        Section top;
        if (root == null || isNull(root)) {
            top = new Section("", null, Mark.START);
        } else if (root instanceof Mapping m) {
            top = new Section("", m, m.mark());
        } else {
            problems.add(root.mark(), "", "the file must be a mapping of sections (listen:, upstream:, …), got "
                    + YamlNode.describe(root));
            top = new Section("", null, root.mark());
        }
        return type.cast(record(type, top));
    }

    /** The YAML key of a component. */
    static String key(RecordComponent c) {
        Schema.Name name = c.getAnnotation(Schema.Name.class);
        return name != null ? name.value() : kebab(c.getName());
    }

    static String kebab(String camel) {
        StringBuilder b = new StringBuilder(camel.length() + 4);
        for (char ch : camel.toCharArray()) {
            b.append(Character.isUpperCase(ch) ? "-" + Character.toLowerCase(ch) : String.valueOf(ch));
        }
        return b.toString();
    }

    /** The record bound from {@code s}; null (reported) when a required key is missing or invalid. */
    private Object record(Class<?> type, Section s) {
        RecordComponent[] components = type.getRecordComponents();
        Object[] args = new Object[components.length];
        boolean complete = true;
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            if (c.isAnnotationPresent(Schema.Computed.class)) {
                continue;
            }
            args[i] = component(c, s, key(c));
            complete &= args[i] != null || !c.isAnnotationPresent(Schema.Required.class);
        }
        s.finish();
        if (!complete) {
            return null;
        }
        try {
            Object value = type.getDeclaredConstructor(Arrays.stream(components).map(RecordComponent::getType)
                    .toArray(Class<?>[]::new)).newInstance(args);
            s.value = hook.check(value, s);
            return s.value;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build " + type.getSimpleName(), e);
        }
    }

    private Object component(RecordComponent c, Section s, String key) {
        if (isSection(c.getType())) {
            return record(c.getType(), s.section(key));
        }
        YamlNode n = s.node(key);
        if (n == null) {
            if (c.isAnnotationPresent(Schema.Required.class)) {
                problems.add(s.markOf(key), s.path(key), "is required");
                return null;
            }
            return defaultOf(c);
        }
        Object v = value(c, c.getGenericType(), n, s.path(key), s, key);
        return v == null ? defaultOf(c) : v;
    }

    /** The component's default: its {@code @Default} bound like a value of the file, else null, empty or a bound empty section. */
    static Object defaultOf(RecordComponent c) {
        return DEFAULTS.computeIfAbsent(c, RecordBinder::computeDefault).orElse(null);
    }

    private static Optional<Object> computeDefault(RecordComponent c) {
        Schema.Default d = c.getAnnotation(Schema.Default.class);
        if (d == null) {
            if (c.isAnnotationPresent(Schema.Nullable.class) || c.isAnnotationPresent(Schema.Required.class)
                    || c.isAnnotationPresent(Schema.Computed.class)) {
                return Optional.empty();
            }
            if (c.getType() == List.class) {
                return Optional.of(List.of());
            }
            if (c.getType() == Map.class) {
                return Optional.of(Map.of());
            }
            throw new IllegalStateException(c.getDeclaringRecord().getSimpleName() + "." + c.getName() + " needs a @Default");
        }
        Problems p = new Problems("@Default of " + c.getDeclaringRecord().getSimpleName() + "." + c.getName());
        YamlTree.Result tree = YamlTree.read(new YAMLFactory(), d.value(), p);
        RecordBinder b = new RecordBinder(new Interpolator(name -> null), p, (r, s) -> r);
        Object v = tree.ok() ? b.value(c, c.getGenericType(), tree.root(), "", null, null) : null;
        if (v == null || !p.isEmpty()) {
            throw new IllegalStateException("invalid default: " + p.messages());
        }
        return Optional.of(v);
    }

    private Object value(RecordComponent c, Type type, YamlNode n, String path, Section parent, String key) {
        Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
        if (raw == List.class) {
            return list(c, ((ParameterizedType) type).getActualTypeArguments()[0], n, path, parent, key);
        }
        if (raw == Map.class) {
            return map(n, path, parent, key);
        }
        if (isSection(raw)) {
            if (n instanceof Mapping m) {
                return record(raw, new Section(path, m, m.mark()));
            }
            problems.add(n.mark(), path, "expected a mapping (key: value lines), got " + YamlNode.describe(n));
            return null;
        }
        return scalar(c, raw, n, path);
    }

    private List<Object> list(RecordComponent c, Type element, YamlNode n, String path, Section parent, String key) {
        if (!(n instanceof Sequence seq)) {
            problems.add(n.mark(), path, "expected a list ([a, b] or '- item' lines), got " + YamlNode.describe(n));
            return null;
        }
        List<Object> out = new ArrayList<>();
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode node = seq.items().get(i);
            String itemPath = Problems.index(path, i);
            Section section = null;
            Object v;
            if (element instanceof Class<?> k && isSection(k) && node instanceof Mapping m) {
                section = new Section(itemPath, m, m.mark());
                v = record(k, section);
            } else {
                v = value(c, element, node, itemPath, null, null);
            }
            items.add(new Item(node, itemPath, section, v));
            if (v != null) {
                out.add(v);
            }
        }
        if (parent != null) {
            parent.items.put(key, items);
        }
        return out;
    }

    /** Keys here are data (client_ids), not config keys: no unknown-key check; the hook checks the entries. */
    private Map<String, String> map(YamlNode n, String path, Section parent, String key) {
        if (!(n instanceof Mapping m)) {
            problems.add(n.mark(), path, "expected a mapping (key: value lines), got " + YamlNode.describe(n));
            return null;
        }
        if (parent != null) {
            parent.children.put(key, new Section(path, m, m.mark()));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Entry e : m.entries().values()) {
            if (!e.key().isBlank() && !isNull(e.value())) {
                String text = text(e.value(), Problems.child(path, e.key()));
                if (text != null) {
                    out.put(e.key(), text);
                }
            }
        }
        return out;
    }

    private Object scalar(RecordComponent c, Class<?> type, YamlNode n, String path) {
        Values v = new Values(this::text, problems);
        if (type == String.class) {
            return string(c, n, path);
        }
        if (type == int.class || type == long.class) {
            Schema.Range r = c.getAnnotation(Schema.Range.class);
            long min = r == null ? 0 : r.min();
            long max = r == null ? Long.MAX_VALUE : r.max();
            return type == int.class ? (Object) v.bounded(n, path, min, Math.min(max, Integer.MAX_VALUE)).map(Long::intValue).orElse(null)
                    : v.bounded(n, path, min, max).orElse(null);
        }
        if (type == boolean.class) {
            return v.bool(n, path);
        }
        if (type == Duration.class) {
            return v.duration(n, path, c.isAnnotationPresent(Schema.ZeroAllowed.class));
        }
        if (type.isEnum()) {
            return v.choice(n, path, type.asSubclass(Enum.class));
        }
        if (type == URI.class) {
            String text = text(n, path);
            // An empty value means unset where there is no default (public-base-url: "${URL:-}").
            return text == null || (text.isBlank() && !c.isAnnotationPresent(Schema.Default.class)) ? null
                    : v.url(text, n, path);
        }
        if (type == Cidr.class) {
            String text = text(n, path);
            try {
                return text == null ? null : Cidr.parse(text);
            } catch (IllegalArgumentException e) {
                problems.add(n.mark(), path, e.getMessage() + " (write an address or CIDR such as 10.0.0.0/8)");
                return null;
            }
        }
        throw new IllegalStateException("no binding for " + type + " at " + path);
    }

    private String string(RecordComponent c, YamlNode n, String path) {
        String raw = text(n, path);
        if (raw == null || (raw.isBlank() && c.isAnnotationPresent(Schema.Nullable.class))) {
            return null;
        }
        Schema.Text rule = c.getAnnotation(Schema.Text.class);
        if (rule == null) {
            return raw;
        }
        String value = rule.value().normalize(raw);
        String problem = rule.value().problem(raw, value);
        if (problem != null) {
            problems.add(n.mark(), path, problem);
            return null;
        }
        return value;
    }

    /** Whether values of {@code type} are written as a mapping of keys (a record other than a value type such as {@link Cidr}). */
    static boolean isSection(Class<?> type) {
        return type.isRecord() && type != Cidr.class;
    }

    static boolean isNull(YamlNode node) {
        return node instanceof Scalar s && s.kind() == Kind.NULL;
    }

    /** The scalar's text, interpolated if it is a string; null (reported) for a mapping or list. */
    String text(YamlNode node, String path) {
        if (!(node instanceof Scalar s)) {
            problems.add(node.mark(), path, "expected a single value, got " + YamlNode.describe(node));
            return null;
        }
        if (s.kind() != Kind.STRING) {
            return s.text();
        }
        try {
            return interpolator.expand(s.text());
        } catch (IllegalArgumentException e) {
            problems.add(s.mark(), path, e.getMessage());
            return null;
        }
    }

    /** One element of a list, with its path ({@code routes[1]}), its section if a mapping, its bound value or null. */
    record Item(YamlNode node, String path, Section section, Object value) {}

    /**
     * A mapping being bound. Every key read is remembered; {@link #finish()} reports the rest as
     * unknown. An absent section ({@code map == null}) yields defaults and reports at its parent.
     * Hooks read it for positions: {@link #markOf}, {@link #child}, {@link #items}.
     */
    final class Section {
        final String path;
        final Mapping map;
        final Mark mark;
        private final Set<String> known = new LinkedHashSet<>();
        private final Map<String, Section> children = new HashMap<>();
        private final Map<String, List<Item>> items = new HashMap<>();
        Object value;

        Section(String path, Mapping map, Mark mark) {
            this.path = path;
            this.map = map;
            this.mark = mark;
        }

        String path(String key) {
            return Problems.child(path, key);
        }

        /** The value under {@code key}, or null when absent or written as null. */
        YamlNode node(String key) {
            known.add(key);
            Entry e = map == null ? null : map.entries().get(key);
            return e == null || isNull(e.value()) ? null : e.value();
        }

        boolean has(String key) {
            return map != null && map.entries().containsKey(key);
        }

        /** Where to report a problem with {@code key}: its value, else this section. */
        Mark markOf(String key) {
            Entry e = map == null ? null : map.entries().get(key);
            return e == null ? mark : e.value().mark();
        }

        /** The section bound under {@code key} (a nested record or a map); an absent one if none. */
        Section child(String key) {
            Section c = children.get(key);
            return c != null ? c : new Section(path(key), null, markOf(key));
        }

        /** The elements of the list under {@code key}, or null when it was not written as a list. */
        List<Item> items(String key) {
            return items.get(key);
        }

        Section section(String key) {
            YamlNode n = node(key);
            Section s;
            if (n instanceof Mapping m) {
                s = new Section(path(key), m, m.mark());
            } else {
                if (n != null) {
                    problems.add(n.mark(), path(key), "expected a mapping (key: value lines), got " + YamlNode.describe(n));
                }
                s = new Section(path(key), null, markOf(key));
            }
            children.put(key, s);
            return s;
        }

        void report(String key, String message) {
            problems.add(markOf(key), path(key), message);
        }

        void finish() {
            if (map == null) {
                return;
            }
            for (Entry e : map.entries().values()) {
                if (!known.contains(e.key())) {
                    problems.add(e.keyMark(), path(e.key()), "unknown key" + Values.suggestion(e.key(), known)
                            + " (expected one of: " + String.join(", ", known) + ")");
                }
            }
        }
    }
}
