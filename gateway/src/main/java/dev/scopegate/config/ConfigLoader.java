package dev.scopegate.config;

import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Reads {@code scopegate.yaml} into a validated {@link ScopegateConfig} (DESIGN §6).
 *
 * <ul>
 *   <li>Keys are the kebab-case forms of the record components; unknown keys are errors.
 *   <li>A missing file section, a missing key, or a key written as {@code null} takes its default;
 *       an empty file yields {@link #defaults()}. For nullable keys ({@code public-base-url},
 *       {@code listen.tls.*}, {@code endpoints.*}, {@code scope.families[].scope}) an empty string
 *       also means unset, so {@code "${VAR:-}"} can switch them off.
 *   <li>{@code ${VAR}}, {@code ${VAR:-default}}, {@code ${VAR-default}} and {@code ${VAR:default}}
 *       are expanded inside string scalars after parsing, with the shell's meaning (see
 *       {@link Interpolator}; an environment value can never change the YAML structure);
 *       {@code $${x}} is the literal text {@code ${x}}.
 *   <li>{@code admin.token-file} and {@code store.redis.password-file} are read (trimmed) at each
 *       load; a file that cannot be read, or is empty, is an error naming the key and the file.
 *   <li>Every problem found is reported, each naming {@code source:line:column: key.path}.
 * </ul>
 *
 * <p>Thread-safe: a loader holds no per-load state and may be shared (e.g. by a reload watcher).
 */
public final class ConfigLoader {

    private final Function<String, String> env;
    private final YAMLFactory yaml = new YAMLFactory();

    /** @param env environment lookup for {@code ${VAR}}; {@code System::getenv} in production */
    public ConfigLoader(Function<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
    }

    /** The configuration an empty file yields. */
    public static ScopegateConfig defaults() {
        try {
            return new ConfigLoader(name -> null).parse("", "defaults");
        } catch (ConfigException e) {
            throw new IllegalStateException("built-in defaults are invalid: " + e.getMessage(), e);
        }
    }

    /** Reads and validates {@code file} (UTF-8). Error messages start with the file name as given. */
    public ScopegateConfig load(Path file) throws ConfigException {
        Objects.requireNonNull(file, "file");
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(List.of(file + ": no such file"));
        } catch (CharacterCodingException e) {
            throw new ConfigException(List.of(file + ": not valid UTF-8 text"));
        } catch (IOException e) {
            throw new ConfigException(List.of(file + ": cannot read: " + e));
        }
        return parse(text, file.toString());
    }

    /**
     * Parses and validates YAML text.
     *
     * @param sourceName names the text in error messages (usually the file name)
     * @throws ConfigException listing every problem found
     */
    public ScopegateConfig parse(String yamlText, String sourceName) throws ConfigException {
        Objects.requireNonNull(yamlText, "yamlText");
        Objects.requireNonNull(sourceName, "sourceName");
        Problems problems = new Problems(sourceName);
        // A leading BOM is legal in a UTF-8 file but not part of the YAML.
        String text = yamlText.startsWith("\uFEFF") ? yamlText.substring(1) : yamlText;
        YamlTree.Result tree = YamlTree.read(yaml, text, problems);
        if (!tree.ok()) {
            // After a syntax error the tree is partial; binding it would only add noise.
            throw new ConfigException(problems.messages());
        }
        ScopegateConfig config = new Binder(new Interpolator(env), problems).bind(tree.root());
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.messages());
        }
        return config;
    }
}
