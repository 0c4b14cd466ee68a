package dev.scopegate.logging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped configs in a child JVM writing to its real stdout: every line is there, whole and in
 * order, once the JVM has exited — by leaving main or by {@code System.exit} — although nothing
 * stopped Logback and the flush interval (set to an hour) had not passed.
 */
class StdoutTargetTest {

    /** Fewer bytes than the appender's 16 buffers hold: no line may be dropped, however slow the writer. */
    static final int LINES = 2000; // JSON lines are ~410 bytes: 830 KB

    @TempDir
    Path dir;

    record Output(int exit, List<String> stdout, String stderr) {}

    Output run(String config, String end, String layout) throws Exception {
        Path configFile = Path.of(getClass().getResource(config).toURI());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path out = dir.resolve("stdout");
        Path err = dir.resolve("stderr");
        Process p = new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                "-Dlogback.configurationFile=" + configFile, "-DSCOPEGATE_LOG_FLUSH_MILLIS=3600000", LinesChild.class.getName(), String.valueOf(LINES), end, layout)
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the child exits").isTrue();
        return new Output(p.exitValue(), Files.readAllLines(out), Files.readString(err));
    }

    @Test
    void theTextLayoutReachesStdoutWholeWhenMainReturns() throws Exception {
        Output o = run("/logback.xml", "return", "text");
        assertThat(o.exit()).isZero();
        assertThat(o.stderr()).doesNotContain("dropped");
        assertThat(o.stdout()).hasSize(LINES + 1);
        for (int i = 0; i < LINES; i++) {
            assertThat(o.stdout().get(i)).matches("\\S+ access 127\\.0\\.0\\.1 \"GET /line/" + i + "\" 200 in=0 out=" + i
                    + " upstream_ms=1\\.0 total_ms=2\\.0 route=authorize");
        }
        assertThat(o.stdout().get(LINES)).contains(" audit rewrite client_id=client-" + LINES);
    }

    @Test
    void theJsonLayoutReachesStdoutWholeOnSystemExit() throws Exception {
        Output o = run("/logback-json.xml", "exit", "json");
        assertThat(o.exit()).isEqualTo(3);
        assertThat(o.stderr()).doesNotContain("dropped");
        assertThat(o.stdout()).hasSize(LINES + 1);
        ObjectMapper mapper = new ObjectMapper();
        for (int i = 0; i < LINES; i++) {
            JsonNode line = mapper.readTree(o.stdout().get(i));
            assertThat(line.path("loggerName").asText()).isEqualTo("scopegate.access");
            assertThat(line.path("formattedMessage").asText()).isEqualTo("127.0.0.1 \"GET /line/" + i
                    + "\" 200 in=0 out=" + i + " upstream_ms=1.0 total_ms=2.0 route=authorize");
        }
        assertThat(mapper.readTree(o.stdout().get(LINES)).path("loggerName").asText()).isEqualTo("scopegate.audit");
    }
}
