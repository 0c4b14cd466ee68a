package dev.scopegate.ops;

import dev.scopegate.config.ConfigChanges;
import dev.scopegate.config.ConfigException;
import dev.scopegate.config.ConfigHolder;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ConfigReloader;
import dev.scopegate.config.ConfigReloader.Outcome;
import dev.scopegate.config.ScopegateConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The reload decision on its own: what is swapped, what is pinned, what is rejected and reported. */
class ConfigReloaderTest {

    @TempDir
    Path dir;

    final ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);
    final List<Outcome> heard = new ArrayList<>();

    static final String BASE = """
            listen: {host: 127.0.0.1, port: 8080}
            admin: {host: 127.0.0.1, port: 9090, token: "first-secret"}
            upstream: {url: "http://127.0.0.1:8081", max-connections: 64, response-timeout: 5s}
            store: {type: embedded, path: data}
            scope:
              default: "a:read"
            """;

    Path write(String text) throws Exception {
        Path file = dir.resolve("scopegate.yaml");
        Files.writeString(file, text);
        return file;
    }

    @Test
    void aValidEditIsSwappedAndRestartOnlyKeysArePinnedAndReported() throws Exception {
        Path file = write(BASE);
        ConfigHolder holder = new ConfigHolder(loader.load(file));
        ScopegateConfig before = holder.current();
        ConfigReloader reloader = new ConfigReloader(file, loader, holder, c -> { }, heard::add);
        reloader.baseline();
        assertThat(reloader.reloadIfChanged()).isInstanceOf(Outcome.Unchanged.class);

        write(BASE.replace("port: 8080", "port: 8081").replace("max-connections: 64", "max-connections: 65")
                .replace("response-timeout: 5s", "response-timeout: 6s").replace("\"a:read\"", "\"b:read\"")
                .replace("first-secret", "second-secret"));
        Outcome outcome = reloader.reloadIfChanged();

        assertThat(outcome).isEqualTo(new Outcome.Applied(
                List.of("admin.token", "upstream.response-timeout", "scope.default"),
                List.of("listen.port", "upstream.max-connections")));
        ScopegateConfig now = holder.current();
        assertThat(now.scope().defaultScope()).isEqualTo("b:read");
        assertThat(now.admin().token()).isEqualTo("second-secret");
        assertThat(now.listen()).isEqualTo(before.listen());
        assertThat(now.upstream().maxConnections()).isEqualTo(64);
        assertThat(heard).containsExactly(outcome);
        // The same bytes again: nothing to do, nothing counted.
        assertThat(reloader.reloadIfChanged()).isInstanceOf(Outcome.Unchanged.class);
        // SIGHUP reloads anyway and still reports the pending restart.
        assertThat(reloader.reload()).isEqualTo(new Outcome.Applied(List.of(), List.of("listen.port", "upstream.max-connections")));
    }

    @Test
    void invalidFilesAreRejectedOnceAndTheRunningConfigStays() throws Exception {
        Path file = write(BASE);
        ConfigHolder holder = new ConfigHolder(loader.load(file));
        ScopegateConfig before = holder.current();
        ConfigReloader reloader = new ConfigReloader(file, loader, holder, c -> { }, heard::add);
        reloader.baseline();

        write(BASE.replace("  default:", "  defualt:"));
        Outcome rejected = reloader.reloadIfChanged();
        assertThat(rejected).isInstanceOf(Outcome.Rejected.class);
        assertThat(((Outcome.Rejected) rejected).errors()).singleElement().asString()
                .contains("scopegate.yaml:6:3: scope.defualt");
        assertThat(reloader.reloadIfChanged()).isInstanceOf(Outcome.Unchanged.class);
        assertThat(holder.current()).isSameAs(before);

        write("");
        assertThat(reloader.reloadIfChanged()).isInstanceOf(Outcome.Rejected.class);
        Files.delete(file);
        assertThat(reloader.reloadIfChanged()).isInstanceOf(Outcome.Rejected.class);
        Files.write(file, new byte[]{'a', ':', ' ', (byte) 0xff});
        assertThat(((Outcome.Rejected) reloader.reloadIfChanged()).errors()).singleElement().asString()
                .contains("UTF-8");
        assertThat(holder.current()).isSameAs(before);
        assertThat(heard).hasSize(4).allMatch(o -> o instanceof Outcome.Rejected);
    }

    @Test
    void theExtraCheckCanRefuseAConfig() throws Exception {
        Path file = write(BASE);
        ConfigHolder holder = new ConfigHolder(loader.load(file));
        ConfigReloader reloader = new ConfigReloader(file, loader, holder, c -> {
            if (c.admin().token().isEmpty()) {
                throw new ConfigException(List.of("admin.token: may not be emptied"));
            }
        }, heard::add);
        write(BASE.replace("first-secret", ""));
        assertThat(reloader.reload()).isEqualTo(new Outcome.Rejected(List.of("admin.token: may not be emptied")));
        assertThat(holder.current().admin().token()).isEqualTo("first-secret");
    }

    @Test
    void diffNamesYamlKeysAndPinningLeavesOnlyLiveChanges() throws Exception {
        ScopegateConfig a = loader.parse(BASE, "a");
        ScopegateConfig b = loader.parse(BASE.replace("store: {type: embedded, path: data}",
                        "store: {type: embedded, path: other}\nlimits: {max-form-bytes: 2048, max-initial-line-bytes: 2048}\n"
                                + "logging: {json: true, access: false}")
                .replace("scope:\n", "scope:\n  dry-run: true\n  document: {allow-private: true}\n"), "b");
        List<String> all = ConfigChanges.diff(a, b);
        assertThat(all).containsExactlyInAnyOrder("scope.dry-run", "scope.document.allow-private",
                "limits.max-initial-line-bytes", "limits.max-form-bytes", "store.path", "logging.access", "logging.json");
        List<String> live = ConfigChanges.diff(a, ConfigChanges.pinRestartOnly(a, b));
        assertThat(live).containsExactlyInAnyOrder("scope.dry-run", "limits.max-form-bytes", "logging.access");
        assertThat(all).filteredOn(ConfigChanges::restartOnly)
                .containsExactlyInAnyOrder("scope.document.allow-private", "limits.max-initial-line-bytes",
                        "store.path", "logging.json");
        assertThat(ConfigChanges.secret("admin.token")).isTrue();
    }

    @Test
    void theExampleConfigStillLoadsAndNamesRestartOnlyKeys() throws Exception {
        Path example = DockerFiles.dir().getParent().resolve("config/scopegate.yaml");
        ScopegateConfig c = loader.load(example);
        assertThat(c.listen().port()).isEqualTo(8080);
        String text = Files.readString(example);
        for (String key : List.of("listen", "admin.host", "admin.port", "upstream.url", "upstream.max-connections",
                "limits.max-header-bytes", "store", "cache", "scope.document", "resources", "logging.json")) {
            assertThat(ConfigChanges.restartOnly(key)).as(key).isTrue();
        }
        assertThat(text).contains("[restart]").contains("SIGHUP").contains("scopegate.audit");
    }
}
