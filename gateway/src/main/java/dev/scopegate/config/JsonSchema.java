package dev.scopegate.config;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/**
 * The JSON Schema (draft 2020-12) of {@code scopegate.yaml}, generated from the records of
 * {@link ScopegateConfig} and their {@link Schema} annotations: types, enums, defaults, ranges,
 * descriptions, {@code additionalProperties: false}. Shipped as {@code config/scopegate.schema.json}
 * for editors (the YAML language server); the binder stays the authority on what loads. Regenerate
 * with {@code java -cp gateway/target/scopegate.jar dev.scopegate.config.JsonSchema config/scopegate.schema.json}.
 * Stateless.
 */
public final class JsonSchema {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** A value written as {@code "${VAR}"} is text until it is expanded, whatever the key's type. */
    private static final String INTERPOLATED = "\\$\\{";

    private JsonSchema() {
    }

    /** Writes the schema to the file named by {@code args[0]}, or to standard output. */
    public static void main(String[] args) throws IOException {
        if (args.length > 0) {
            Files.writeString(Path.of(args[0]), generate(), StandardCharsets.UTF_8);
        } else {
            System.out.print(generate());
        }
    }

    /** The schema as pretty-printed JSON with a final newline. */
    public static String generate() {
        ObjectNode root = JSON.createObjectNode();
        root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        root.put("title", "scopegate configuration");
        root.put("description", "Generated from dev.scopegate.config.ScopegateConfig by JsonSchema; do not edit.");
        root.setAll(record(ScopegateConfig.class));
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"));
        try {
            return JSON.writer(printer).writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode record(Class<?> type) {
        ObjectNode o = JSON.createObjectNode();
        o.put("type", "object");
        ObjectNode properties = o.putObject("properties");
        for (RecordComponent c : type.getRecordComponents()) {
            if (!c.isAnnotationPresent(Schema.Computed.class)) {
                properties.set(RecordBinder.key(c), component(c));
            }
        }
        o.put("additionalProperties", false);
        return o;
    }

    private static ObjectNode component(RecordComponent c) {
        ObjectNode o = value(c, c.getGenericType());
        if (c.isAnnotationPresent(Schema.Nullable.class)) {          // null (or no key) means unset
            if (o.get("type") != null) {
                o.set("type", JSON.createArrayNode().add(o.get("type").asText()).add("null"));
            } else {
                ((ArrayNode) o.get("anyOf")).add(JSON.createObjectNode().put("type", "null"));
            }
        }
        StringBuilder doc = new StringBuilder();
        if (c.isAnnotationPresent(Schema.Doc.class)) {
            doc.append(c.getAnnotation(Schema.Doc.class).value());
        }
        if (c.isAnnotationPresent(Schema.Restart.class)) {
            doc.append(doc.length() == 0 ? "" : " ").append("[restart] A change applies at the next start.");
        }
        if (c.isAnnotationPresent(Schema.Required.class)) {
            doc.append(doc.length() == 0 ? "" : " ").append("Required.");
        }
        if (doc.length() > 0) {
            o.put("description", doc.toString());
        }
        Schema.Default d = c.getAnnotation(Schema.Default.class);
        if (d != null) {
            try {
                o.set("default", YAML.readTree(d.value()));
            } catch (IOException e) {
                throw new IllegalStateException("invalid @Default of " + c, e);
            }
        }
        return o;
    }

    private static ObjectNode value(RecordComponent c, Type type) {
        Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
        ObjectNode o = JSON.createObjectNode();
        if (raw == java.util.List.class) {
            o.put("type", "array");
            o.set("items", value(c, ((ParameterizedType) type).getActualTypeArguments()[0]));
        } else if (raw == java.util.Map.class) {
            o.put("type", "object");
            o.putObject("additionalProperties").put("type", "string");
        } else if (RecordBinder.isSection(raw)) {
            return record(raw);
        } else if (raw == String.class || raw == Cidr.class || raw == URI.class) {
            o.put("type", "string");
            if (raw == URI.class) {
                o.put("format", "uri");
            }
            Schema.Text rule = c.getAnnotation(Schema.Text.class);
            if (rule != null) {
                o.put("pattern", rule.value().pattern);
            }
        } else if (raw.isEnum()) {
            ArrayNode values = o.putArray("enum");
            Arrays.stream(raw.getEnumConstants()).map(e -> Values.kebab((Enum<?>) e)).forEach(values::add);
        } else if (raw == int.class || raw == long.class) {
            ObjectNode n = JSON.createObjectNode().put("type", "integer");
            Schema.Range r = c.getAnnotation(Schema.Range.class);
            n.put("minimum", r == null ? 0 : r.min());
            long max = r == null ? Long.MAX_VALUE : r.max();
            n.put("maximum", raw == int.class ? Math.min(max, Integer.MAX_VALUE) : max);
            return orInterpolated(n);
        } else if (raw == boolean.class) {
            return orInterpolated(JSON.createObjectNode().put("type", "boolean"));
        } else if (raw == Duration.class) {
            ObjectNode n = JSON.createObjectNode().put("type", "string")
                    .put("pattern", "^\\s*" + Values.DURATION.pattern() + "\\s*$");
            ObjectNode seconds = JSON.createObjectNode().put("type", "integer").put("minimum", 0);
            ObjectNode any = orInterpolated(n);
            ((ArrayNode) any.get("anyOf")).insert(0, seconds);
            any.put("$comment", "500ms, 2s, 5m, 1h, 30d; a bare number means seconds");
            return any;
        } else {
            throw new IllegalStateException("no schema for " + type);
        }
        return o;
    }

    private static ObjectNode orInterpolated(JsonNode typed) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode any = o.putArray("anyOf");
        any.add(typed);
        any.add(JSON.createObjectNode().put("type", "string").put("pattern", INTERPOLATED));
        return o;
    }
}
