package dev.scopegate.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renders a kustomization directory as {@code kustomize build} would, for the fields
 * {@code deploy/kubernetes} uses, and refuses every other field: kustomize cannot be installed
 * here, and a field this class ignored would render differently from the real thing. Supported:
 *
 * <ul>
 *   <li>{@code resources}: YAML files (several documents each) and directories holding a
 *       kustomization. As kustomize does, a directory that contains one already being rendered
 *       is refused as a cycle (an overlay cannot live inside its base), and files a kustomization
 *       reads must lie in or below its own directory.
 *   <li>{@code configMapGenerator}: {@code files} ({@code name} or {@code key=name}); behavior
 *       {@code create} (default), {@code replace} or {@code merge}; the name hash must be off
 *       ({@code options.disableNameSuffixHash} or {@code generatorOptions}).
 *   <li>{@code replicas}: {@code name} and {@code count} of a Deployment.
 *   <li>{@code patches}: strategic-merge patch files ({@code path}) whose {@code kind} and
 *       {@code metadata.name} name their target. Maps merge key by key and a {@code null} value
 *       deletes; lists merge item by item on their Kubernetes merge key ({@code name} for
 *       containers, initContainers, volumes, volumeMounts, env; {@code containerPort} for
 *       container ports; {@code topologyKey} for topologySpreadConstraints); other lists are
 *       replaced; {@code $patch} directives are refused.
 * </ul>
 *
 * Errors are {@link IllegalArgumentException}s naming the file. Stateless.
 */
final class Kustomize {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static final Set<String> FIELDS = Set.of("apiVersion", "kind", "resources", "configMapGenerator",
            "generatorOptions", "replicas", "patches");
    private static final Map<String, String> MERGE_KEYS = Map.of(
            "containers", "name", "initContainers", "name", "volumes", "name", "volumeMounts", "name",
            "env", "name", "ports", "containerPort", "topologySpreadConstraints", "topologyKey");

    private Kustomize() {
    }

    /** The objects {@code kustomize build dir} prints, in resource order, generated objects after. */
    static List<ObjectNode> build(Path dir) throws IOException {
        return build(dir.toAbsolutePath().normalize(), new ArrayList<>());
    }

    private static List<ObjectNode> build(Path dir, List<Path> visiting) throws IOException {
        for (Path seen : visiting) {
            if (seen.startsWith(dir)) {
                throw new IllegalArgumentException("cycle detected: candidate root '" + dir
                        + "' contains visited root '" + seen + "'");
            }
        }
        visiting.add(dir);
        Path file = dir.resolve("kustomization.yaml");
        JsonNode k = YAML.readTree(file.toFile());
        for (Iterator<String> it = k.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw new IllegalArgumentException(file + ": field '" + field + "' is not rendered by this test's "
                        + "Kustomize; extend it before using the field");
            }
        }
        List<ObjectNode> out = new ArrayList<>();
        for (JsonNode r : k.path("resources")) {
            Path p = dir.resolve(r.asText()).normalize();
            if (Files.isDirectory(p)) {
                out.addAll(build(p, visiting));
            } else {
                out.addAll(readAll(inRoot(dir, r.asText(), file)));
            }
        }
        boolean hashOff = k.path("generatorOptions").path("disableNameSuffixHash").asBoolean(false);
        for (JsonNode g : k.path("configMapGenerator")) {
            generateConfigMap(dir, file, g, hashOff, out);
        }
        for (JsonNode p : k.path("patches")) {
            if (!p.has("path") || p.size() != 1) {
                throw new IllegalArgumentException(file + ": only patches with a lone `path` are rendered: " + p);
            }
            for (ObjectNode patch : readAll(inRoot(dir, p.path("path").asText(), file))) {
                strategicMerge(find(out, patch.path("kind").asText(), patch.path("metadata").path("name").asText(), file),
                        patch);
            }
        }
        for (JsonNode r : k.path("replicas")) {
            ObjectNode target = find(out, "Deployment", r.path("name").asText(), file);
            ((ObjectNode) target.path("spec")).put("replicas", r.path("count").asInt());
        }
        visiting.remove(visiting.size() - 1);
        return out;
    }

    private static void generateConfigMap(Path dir, Path file, JsonNode g, boolean hashOff, List<ObjectNode> out)
            throws IOException {
        for (Iterator<String> it = g.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!Set.of("name", "behavior", "files", "options").contains(field)) {
                throw new IllegalArgumentException(file + ": configMapGenerator field '" + field + "' is not rendered");
            }
        }
        if (!hashOff && !g.path("options").path("disableNameSuffixHash").asBoolean(false)) {
            throw new IllegalArgumentException(file + ": configMapGenerator " + g.path("name").asText()
                    + " has a name hash: not rendered (and every config edit would roll the pods)");
        }
        ObjectNode data = YAML.createObjectNode();
        for (JsonNode f : g.path("files")) {
            String spec = f.asText();
            int eq = spec.indexOf('=');
            String key = eq < 0 ? Path.of(spec).getFileName().toString() : spec.substring(0, eq);
            data.put(key, Files.readString(inRoot(dir, eq < 0 ? spec : spec.substring(eq + 1), file),
                    StandardCharsets.UTF_8));
        }
        String name = g.path("name").asText();
        String behavior = g.path("behavior").asText("create");
        if (behavior.equals("create")) {
            if (findOrNull(out, "ConfigMap", name) != null) {
                throw new IllegalArgumentException(file + ": ConfigMap " + name + " exists already (behavior create)");
            }
            ObjectNode cm = YAML.createObjectNode();
            cm.put("apiVersion", "v1");
            cm.put("kind", "ConfigMap");
            cm.putObject("metadata").put("name", name);
            cm.set("data", data);
            out.add(cm);
        } else if (behavior.equals("replace") || behavior.equals("merge")) {
            ObjectNode cm = find(out, "ConfigMap", name, file);
            if (behavior.equals("replace")) {
                cm.set("data", data);
            } else {
                cm.withObjectProperty("data").setAll(data);
            }
        } else {
            throw new IllegalArgumentException(file + ": unknown configMapGenerator behavior " + behavior);
        }
    }

    /** Every non-empty document of a YAML file, as objects. */
    static List<ObjectNode> readAll(Path file) throws IOException {
        List<ObjectNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc == null || doc.isNull() || doc.isMissingNode()) {
                    continue;
                }
                if (!doc.isObject()) {
                    throw new IllegalArgumentException(file + ": a document that is not a mapping");
                }
                docs.add((ObjectNode) doc);
            }
        }
        return docs;
    }

    /**
     * Applies a strategic-merge patch to {@code target} in place (see the class comment for the
     * subset). Lists without a known merge key are replaced.
     */
    static void strategicMerge(ObjectNode target, JsonNode patch) {
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String field = e.getKey();
            JsonNode value = e.getValue();
            if (field.startsWith("$")) {
                throw new IllegalArgumentException("patch directive " + field + " is not rendered");
            }
            JsonNode current = target.get(field);
            if (value.isNull()) {
                target.remove(field);
            } else if (value.isObject() && current != null && current.isObject()) {
                strategicMerge((ObjectNode) current, value);
            } else if (value.isArray() && current != null && current.isArray() && MERGE_KEYS.containsKey(field)) {
                mergeList((ArrayNode) current, (ArrayNode) value, MERGE_KEYS.get(field));
            } else {
                target.set(field, value.deepCopy());
            }
        }
    }

    private static void mergeList(ArrayNode current, ArrayNode patch, String key) {
        for (JsonNode item : patch) {
            if (!item.isObject() || !item.has(key)) {
                throw new IllegalArgumentException("patch list item without merge key " + key + ": " + item);
            }
            ObjectNode match = null;
            for (JsonNode c : current) {
                if (c.path(key).equals(item.get(key))) {
                    match = (ObjectNode) c;
                }
            }
            if (match == null) {
                current.add(item.deepCopy());
            } else {
                strategicMerge(match, item);
            }
        }
    }

    private static ObjectNode find(List<ObjectNode> objects, String kind, String name, Path file) {
        ObjectNode o = findOrNull(objects, kind, name);
        if (o == null) {
            throw new IllegalArgumentException(file + ": no " + kind + " named " + name);
        }
        return o;
    }

    private static ObjectNode findOrNull(List<ObjectNode> objects, String kind, String name) {
        for (ObjectNode o : objects) {
            if (o.path("kind").asText().equals(kind) && o.path("metadata").path("name").asText().equals(name)) {
                return o;
            }
        }
        return null;
    }

    /** kustomize's default load restrictor: a file a kustomization reads lies in or below its directory. */
    private static Path inRoot(Path dir, String relative, Path kustomization) {
        Path p = dir.resolve(relative).normalize();
        if (!p.startsWith(dir)) {
            throw new IllegalArgumentException(kustomization + ": file '" + relative + "' is not in or below '" + dir + "'");
        }
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException(kustomization + ": no such file '" + relative + "'");
        }
        return p;
    }
}
