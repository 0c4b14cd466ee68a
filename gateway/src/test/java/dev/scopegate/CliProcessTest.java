package dev.scopegate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command line as a process (the jar's main class in a child JVM), where the exit code is
 * the process's and stderr holds everything, logging included: a refused start is one line.
 */
class CliProcessTest {

    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    static Run cli(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), "dev.scopegate.Cli"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("still running after 60 s: " + String.join(" ", args));
        }
        return new Run(p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private String config(String listenAndAdmin) {
        return listenAndAdmin + "\nupstream: {url: \"http://127.0.0.1:9\"}\nstore: {path: \""
                + dir.resolve("data").toString().replace("\\", "/") + "\"}\n";
    }

    @Test
    void helpAndUsageErrorsExitZeroAndTwo() throws Exception {
        Run help = cli("healthcheck", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).startsWith("Usage: scopegate.jar healthcheck");
        assertThat(help.err()).isEmpty();

        Run wrong = cli("--no-such-option");
        assertThat(wrong.exit()).isEqualTo(2);
        assertThat(wrong.out()).isEmpty();
        assertThat(wrong.err()).startsWith("Unknown option: '--no-such-option'");
    }

    @Test
    void aRefusedStartIsOneLineOnStderrAndExitOne() throws Exception {
        Path f = Files.writeString(dir.resolve("public.yaml"),
                config("listen: {host: 127.0.0.1, port: 0}\nadmin: {host: 0.0.0.0, port: 0}"));

        Run run = cli("--config", f.toString());

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err().lines().toList()).containsExactly("scopegate: cannot start: admin.host 0.0.0.0 is not a"
                + " loopback address and admin.token is empty: set a token or bind admin to 127.0.0.1");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void aPortInUseIsOneClearLineAndExitOneWithoutAStackTrace() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Path f = Files.writeString(dir.resolve("taken.yaml"),
                    config("listen: {host: 127.0.0.1, port: 0}\nadmin: {host: 127.0.0.1, port: " + port + "}"));

            Run run = cli("start", "--config", f.toString());

            assertThat(run.exit()).isEqualTo(1);
            assertThat(run.err()).contains("scopegate: cannot start: admin 127.0.0.1:" + port + ": cannot listen: ")
                    .doesNotContain("\tat ");
            assertThat(run.err().lines().filter(l -> l.startsWith("scopegate: cannot start"))).hasSize(1);
        }
    }
}
