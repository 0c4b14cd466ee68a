package dev.scopegate.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Collects load errors so that one pass reports all of them, sorted by position. Each message has
 * the form {@code source:line:column: key.path: what is wrong}. Not thread-safe: one per load.
 */
final class Problems {

    private record Problem(Mark mark, String text) {}

    private final String source;
    private final List<Problem> problems = new ArrayList<>();

    Problems(String source) {
        this.source = source;
    }

    void add(Mark mark, String path, String message) {
        String where = path == null || path.isEmpty() ? "(document)" : path;
        problems.add(new Problem(mark, source + ":" + mark + ": " + where + ": " + message));
    }

    boolean isEmpty() {
        return problems.isEmpty();
    }

    List<String> messages() {
        return problems.stream()
                .sorted(Comparator.comparingInt((Problem p) -> p.mark().line()).thenComparingInt(p -> p.mark().column()))
                .map(Problem::text)
                .toList();
    }

    /** A 1-based position in the source text. */
    record Mark(int line, int column) {
        static final Mark START = new Mark(1, 1);

        @Override
        public String toString() {
            return line + ":" + column;
        }
    }

    /** {@code parent.key}; keys that are not plain identifiers are quoted: {@code scope.clients["a.b"]}. */
    static String child(String parent, String key) {
        if (!key.isEmpty() && key.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-' || c == '_')) {
            return parent.isEmpty() ? key : parent + "." + key;
        }
        String quoted = "[\"" + key.replace("\\", "\\\\").replace("\"", "\\\"") + "\"]";
        return parent + quoted;
    }

    static String index(String parent, int i) {
        return parent + "[" + i + "]";
    }
}
