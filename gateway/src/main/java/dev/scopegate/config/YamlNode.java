package dev.scopegate.config;

import dev.scopegate.config.Problems.Mark;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * A parsed YAML value that remembers where it was written, so that the binder can name the line
 * of any value it rejects. Immutable once built.
 */
sealed interface YamlNode permits YamlNode.Mapping, YamlNode.Sequence, YamlNode.Scalar {

    Mark mark();

    /** What YAML resolved a scalar to; {@link #STRING} covers plain and quoted strings. */
    enum Kind { STRING, INTEGER, FLOAT, BOOLEAN, NULL }

    /**
     * A scalar. {@code text} is the scalar as written (unquoted); {@code integer} is set for
     * {@link Kind#INTEGER} (YAML also allows {@code 0x1F}, {@code 1_000}); {@code bool} for
     * {@link Kind#BOOLEAN}.
     */
    record Scalar(Kind kind, String text, BigInteger integer, boolean bool, Mark mark) implements YamlNode {
        String describe() {
            return switch (kind) {
                case STRING -> "a string";
                case INTEGER -> "an integer";
                case FLOAT -> "a decimal number";
                case BOOLEAN -> "a boolean";
                case NULL -> "null";
            };
        }
    }

    /** One {@code key: value} pair; {@code keyMark} is where the key starts. */
    record Entry(String key, Mark keyMark, YamlNode value) {}

    /** A mapping, in file order. */
    record Mapping(Map<String, Entry> entries, Mark mark) implements YamlNode {}

    record Sequence(List<YamlNode> items, Mark mark) implements YamlNode {}

    static String describe(YamlNode node) {
        if (node instanceof Scalar s) {
            return s.describe();
        }
        return node instanceof Mapping ? "a mapping" : "a list";
    }
}
