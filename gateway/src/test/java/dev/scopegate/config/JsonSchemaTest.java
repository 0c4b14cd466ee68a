package dev.scopegate.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** config/scopegate.schema.json is what the records say, and the example config only uses keys it knows. */
class JsonSchemaTest {

    private static final Path SCHEMA = Path.of("../config/scopegate.schema.json");
    private static final Path EXAMPLE = Path.of("../config/scopegate.yaml");

    @Test
    void theShippedSchemaIsGeneratedFromTheRecords() throws Exception {
        assertThat(Files.readString(SCHEMA))
                .as("config/scopegate.schema.json is stale: regenerate it with"
                        + " java -cp gateway/target/scopegate.jar dev.scopegate.config.JsonSchema config/scopegate.schema.json")
                .isEqualTo(JsonSchema.generate());
    }

    @Test
    void theExampleReferencesTheSchemaAndUsesOnlyItsKeys() throws Exception {
        assertThat(Files.readAllLines(EXAMPLE).get(0)).isEqualTo("# yaml-language-server: $schema=./scopegate.schema.json");
        JsonNode schema = new ObjectMapper().readTree(SCHEMA.toFile());
        JsonNode example = new ObjectMapper(new YAMLFactory()).readTree(EXAMPLE.toFile());
        List<String> unknown = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        walk(example, schema, "", unknown, seen);
        assertThat(unknown).isEmpty();
        assertThat(seen).contains("listen.port", "scope.families[].redirect-hosts", "store.redis.key-prefix");
    }

    @Test
    void everyKeyTheBinderKnowsIsInTheSchemaWithItsDefault() throws Exception {
        JsonNode schema = new ObjectMapper().readTree(JsonSchema.generate());
        JsonNode listen = schema.at("/properties/listen/properties");
        assertThat(listen.get("port").get("default").asInt()).isEqualTo(ConfigLoader.defaults().listen().port());
        assertThat(schema.at("/properties/scope/properties/trigger/enum").toString()).isEqualTo("[\"missing\",\"missing-or-empty\"]");
        assertThat(schema.at("/properties/scope/properties/default/default").asText()).isEmpty();
        assertThat(schema.at("/properties/store/properties/redis/properties").has("password")).isFalse();
        assertThat(schema.at("/properties/routes/items/additionalProperties").asBoolean()).isFalse();
    }

    private static void walk(JsonNode value, JsonNode schema, String path, List<String> unknown, List<String> seen) {
        if (value.isObject() && schema.has("properties")) {
            for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String child = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                JsonNode property = schema.get("properties").get(e.getKey());
                if (property == null) {
                    unknown.add(child);
                } else {
                    seen.add(child);
                    walk(e.getValue(), property, child, unknown, seen);
                }
            }
        } else if (value.isArray() && schema.has("items")) {
            value.forEach(item -> walk(item, schema.get("items"), path + "[]", unknown, seen));
        }
    }
}
