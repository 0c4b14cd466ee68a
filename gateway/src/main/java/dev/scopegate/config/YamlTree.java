package dev.scopegate.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.scopegate.config.Problems.Mark;
import dev.scopegate.config.YamlNode.Entry;
import dev.scopegate.config.YamlNode.Kind;
import dev.scopegate.config.YamlNode.Mapping;
import dev.scopegate.config.YamlNode.Scalar;
import dev.scopegate.config.YamlNode.Sequence;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Turns YAML text into a {@link YamlNode} tree with positions, using Jackson's streaming YAML
 * parser (Jackson's own tree model forgets positions). Rejects what would make a config
 * ambiguous: duplicate keys, aliases, several documents. Not thread-safe: one per parse.
 */
final class YamlTree {

    private final YAMLParser parser;
    private final Problems problems;
    private String lastPath = "";

    private YamlTree(YAMLParser parser, Problems problems) {
        this.parser = parser;
        this.problems = problems;
    }

    /**
     * Parses {@code text}. Returns the root (null for an empty document) or, on a syntax error,
     * reports it and returns {@code Result.failed()}.
     */
    static Result read(YAMLFactory factory, String text, Problems problems) {
        try (YAMLParser parser = factory.createParser(text)) {
            YamlTree tree = new YamlTree(parser, problems);
            try {
                JsonToken first = parser.nextToken();
                if (first == null) {
                    return new Result(null, true);
                }
                YamlNode root = tree.value(first, "");
                if (parser.nextToken() != null) {
                    problems.add(tree.mark(parser.currentTokenLocation()), "",
                            "only one YAML document is allowed (found a second one after '---')");
                }
                return new Result(root, true);
            } catch (JsonProcessingException e) {
                problems.add(tree.mark(e.getLocation()), tree.lastPath, "YAML syntax error: " + describe(e));
                return new Result(null, false);
            }
        } catch (IOException e) {
            // Parsing an in-memory string: only the parser's own failures land here.
            problems.add(Mark.START, "", "YAML error: " + e.getMessage());
            return new Result(null, false);
        }
    }

    /** {@code root} is null for an empty document; {@code ok} is false after a syntax error. */
    record Result(YamlNode root, boolean ok) {}

    private YamlNode value(JsonToken token, String path) throws IOException {
        lastPath = path;
        Mark mark = mark(parser.currentTokenLocation());
        if (token == null) {
            problems.add(mark, path, "unexpected end of document");
            return new Scalar(Kind.NULL, "", null, false, mark);
        }
        switch (token) {
            case START_OBJECT:
                return mapping(mark, path);
            case START_ARRAY:
                return sequence(mark, path);
            case VALUE_STRING:
                if (parser.isCurrentAlias()) {
                    problems.add(mark, path, "YAML aliases (*" + parser.getText() + ") are not supported; write the value out");
                }
                return new Scalar(Kind.STRING, parser.getText(), null, false, mark);
            case VALUE_NUMBER_INT:
                return new Scalar(Kind.INTEGER, parser.getText(), integer(), false, mark);
            case VALUE_NUMBER_FLOAT:
                return new Scalar(Kind.FLOAT, parser.getText(), null, false, mark);
            case VALUE_TRUE:
                return new Scalar(Kind.BOOLEAN, parser.getText(), null, true, mark);
            case VALUE_FALSE:
                return new Scalar(Kind.BOOLEAN, parser.getText(), null, false, mark);
            case VALUE_NULL:
                return new Scalar(Kind.NULL, parser.getText(), null, false, mark);
            default:
                // VALUE_EMBEDDED_OBJECT (binary tags) and anything else: keep the text, let the binder judge.
                return new Scalar(Kind.STRING, String.valueOf(parser.getText()), null, false, mark);
        }
    }

    private BigInteger integer() throws IOException {
        try {
            return parser.getBigIntegerValue();
        } catch (JsonProcessingException | NumberFormatException e) {
            return null;
        }
    }

    private Mapping mapping(Mark mark, String path) throws IOException {
        Map<String, Entry> entries = new LinkedHashMap<>();
        JsonToken token;
        while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            Mark keyMark = mark(parser.currentTokenLocation());
            String childPath = Problems.child(path, key);
            lastPath = childPath;
            YamlNode value = value(parser.nextToken(), childPath);
            Entry previous = entries.get(key);
            if (previous != null) {
                problems.add(keyMark, childPath, "duplicate key (first set on line " + previous.keyMark().line() + ")");
            } else {
                entries.put(key, new Entry(key, keyMark, value));
            }
        }
        if (token != JsonToken.END_OBJECT) {
            problems.add(mark(parser.currentTokenLocation()), path, "malformed mapping");
        }
        return new Mapping(Collections.unmodifiableMap(entries), mark);
    }

    private Sequence sequence(Mark mark, String path) throws IOException {
        List<YamlNode> items = new ArrayList<>();
        JsonToken token;
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY && token != null) {
            items.add(value(token, Problems.index(path, items.size())));
        }
        return new Sequence(List.copyOf(items), mark);
    }

    private Mark mark(JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return Mark.START;
        }
        return new Mark(location.getLineNr(), Math.max(1, location.getColumnNr()));
    }

    /** SnakeYAML's messages repeat the position and quote the source; keep only the reasons. */
    private static String describe(JsonProcessingException e) {
        String message = String.valueOf(e.getOriginalMessage());
        String reasons = message.lines()
                .filter(line -> !line.isBlank() && !Character.isWhitespace(line.charAt(0)))
                .collect(Collectors.joining("; "));
        reasons = reasons.replaceAll("<org\\.yaml\\.snakeyaml\\.events\\.(\\w+)Event\\([^>]*\\)>", "$1");
        return reasons.isEmpty() ? "malformed YAML" : reasons;
    }
}
