package dev.scopegate.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckCommandTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(Path file, Map<String, String> env) {
        return CheckCommand.run(file, print(out), print(err), env::get);
    }

    private static PrintStream print(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }

    private static String text(ByteArrayOutputStream bytes) {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theExampleConfigIsOk() {
        Path example = Path.of("../config/scopegate.yaml");

        int code = run(example, Map.of("SCOPEGATE_ADMIN_TOKEN", "do-not-print-me"));

        assertThat(code).isZero();
        assertThat(text(out).lines()).containsExactly(
                "OK: " + example,
                "listen 0.0.0.0:8080 (http), admin 127.0.0.1:9090, upstream http://127.0.0.1:8081, store embedded (data)");
        assertThat(text(out)).doesNotContain("do-not-print-me");
        assertThat(text(err)).isEmpty();
    }

    @Test
    void theProcessEnvironmentVariantWorks() throws Exception {
        Path file = Files.writeString(dir.resolve("s.yaml"), """
                store:
                  type: redis
                  redis: {uri: "redis://:pw@redis:6379"}
                """);

        int code = CheckCommand.run(file, print(out), print(err));

        assertThat(code).isZero();
        assertThat(text(out)).contains("OK: " + file).contains("store redis (redis://***@redis:6379)").doesNotContain(":pw@");
    }

    @Test
    void anInvalidConfigPrintsEachErrorOnItsOwnLine() throws Exception {
        Path file = Files.writeString(dir.resolve("bad.yaml"), """
                listen: {port: 99999}
                upstream:
                  connect-timeout: soon
                admin: {token: "${NO_SUCH_VAR}"}
                """);

        int code = run(file, Map.of());

        assertThat(code).isEqualTo(1);
        assertThat(text(out)).isEmpty();
        assertThat(text(err).lines()).hasSize(3).allSatisfy(line -> assertThat(line).startsWith(file + ":"));
        assertThat(text(err).lines().toList().get(0)).contains("listen.port");
        assertThat(text(err).lines().toList().get(1)).contains("upstream.connect-timeout");
        assertThat(text(err).lines().toList().get(2)).contains("admin.token").contains("NO_SUCH_VAR");
    }

    @Test
    void aMissingFileFails() {
        Path missing = dir.resolve("absent.yaml");

        assertThat(run(missing, Map.of())).isEqualTo(1);
        assertThat(text(err).lines()).containsExactly(missing + ": no such file");
    }
}
