package dev.scopegate.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The watcher on a real directory: files written beside the config (an access log, the embedded
 * store) neither trigger a reload nor hold one back. Editing styles and the ConfigMap swap are
 * covered end to end by {@code HotReloadTest}.
 */
class ConfigWatcherTest {

    @TempDir
    Path dir;

    @Test
    void aFileWrittenContinuouslyBesideTheConfigNeitherTriggersNorDelaysAReload() throws Exception {
        Path config = dir.resolve("scopegate.yaml");
        Files.writeString(config, "a: 1\n");
        Semaphore changes = new Semaphore(0);
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread noise = new Thread(() -> {
            Path log = dir.resolve("access.log");
            while (writing.get()) {
                try {
                    Files.writeString(log, "a line\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    Thread.sleep(10); // well inside the quiet time
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        });
        try (ConfigWatcher watcher = new ConfigWatcher(config, Duration.ofMillis(200), changes::release).start()) {
            noise.start();
            assertThat(changes.tryAcquire(1500, TimeUnit.MILLISECONDS)).as("reload from log writes alone").isFalse();

            Files.writeString(config, "a: 2\n");
            // before the fix the log's events kept restarting the quiet time: no reload while it was written
            assertThat(changes.tryAcquire(5, TimeUnit.SECONDS)).as("reload while the log is written").isTrue();
        } finally {
            writing.set(false);
            noise.join();
        }
    }

    @Test
    void aRenameOverTheConfigCounts() throws Exception {
        Path config = dir.resolve("scopegate.yaml");
        Files.writeString(config, "a: 1\n");
        Semaphore changes = new Semaphore(0);
        try (ConfigWatcher watcher = new ConfigWatcher(config, Duration.ofMillis(50), changes::release).start()) {
            Path tmp = dir.resolve(".scopegate.yaml.tmp");
            Files.writeString(tmp, "a: 2\n", StandardCharsets.UTF_8);
            assertThat(changes.tryAcquire(500, TimeUnit.MILLISECONDS)).as("a temporary file alone").isFalse();
            Files.move(tmp, config, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            assertThat(changes.tryAcquire(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void severalFilesInSeveralDirectoriesAreWatchedByOneWatcher() throws Exception {
        Path certs = Files.createDirectories(dir.resolve("certs"));
        Path keys = Files.createDirectories(dir.resolve("keys"));
        Path cert = Files.writeString(certs.resolve("tls.crt"), "1");
        Path key = Files.writeString(keys.resolve("tls.key"), "1");
        Semaphore changes = new Semaphore(0);
        try (ConfigWatcher watcher = new ConfigWatcher(java.util.List.of(cert, key), Duration.ofMillis(50),
                changes::release, "test-watch").start()) {
            Files.writeString(keys.resolve("other.key"), "x");
            assertThat(changes.tryAcquire(500, TimeUnit.MILLISECONDS)).as("another file beside the key").isFalse();

            Files.writeString(key, "2");
            assertThat(changes.tryAcquire(5, TimeUnit.SECONDS)).as("the second file, in its own directory").isTrue();
            Files.writeString(cert, "2");
            assertThat(changes.tryAcquire(5, TimeUnit.SECONDS)).as("the first file").isTrue();
        }
    }
}
