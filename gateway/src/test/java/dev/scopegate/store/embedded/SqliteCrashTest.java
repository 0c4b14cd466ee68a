package dev.scopegate.store.embedded;

import dev.scopegate.model.Registration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** {@code kill -9} right after the last acknowledged put loses none of them. */
class SqliteCrashTest {

    private static final int PUTS = 25;

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void everyAcknowledgedPutSurvivesSigkill() throws Exception {
        Path storeDir = dir.resolve("data");
        Path childErr = dir.resolve("child.err");
        Process child = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m",
                "-cp", System.getProperty("java.class.path"),
                CrashChild.class.getName(), storeDir.toString(), Integer.toString(PUTS))
                .redirectError(childErr.toFile())
                .start();
        List<String> acknowledged = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.startsWith("PUT-OK ")) {
                    acknowledged.add(line.substring("PUT-OK ".length()));
                    if (acknowledged.size() == PUTS) {
                        child.destroyForcibly(); // SIGKILL: no shutdown hooks, no close()
                        break;
                    }
                }
            }
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
        if (acknowledged.size() < PUTS) {
            fail("child acknowledged only " + acknowledged.size() + " puts; stderr:\n" + Files.readString(childErr));
        }
        assertThat(child.exitValue()).isNotZero();
        // The WAL was never checkpointed by a clean close: the data must come back from it.
        assertThat(storeDir.resolve(SqliteRegistrationStore.FILE_NAME + "-wal")).exists();

        try (SqliteRegistrationStore store = new SqliteRegistrationStore(storeDir)) {
            for (String id : acknowledged) {
                Optional<Registration> r = store.get(id).join();
                assertThat(r).as(id).isPresent();
                assertThat(r.get().scope()).isEqualTo("scope:" + id.substring("crash-".length()));
            }
            assertThat(store.count().join()).isEqualTo((long) PUTS);
        }
    }
}
