package dev.scopegate.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus server (Debian's {@code prometheus} package, installed by
 * {@code .ci/prometheus.sh}) run by a test: its own loopback port, a temporary config and storage
 * directory, a 1 s scrape and rule-evaluation interval; stopped by {@link #close}. Also finds
 * {@code promtool}. Not thread-safe.
 */
public final class Prometheus implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path log;
    private final String base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Prometheus(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.base = "http://127.0.0.1:" + port;
    }

    /** The executable {@code name} on the PATH, if any. */
    public static Optional<Path> binary(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * Starts Prometheus in {@code dir} scraping {@code target}'s {@code /metrics} (job
     * {@code scopegate}, every second) with {@code rules} loaded, and waits until it is ready.
     */
    public static Prometheus start(Path dir, String target, Path rules) throws Exception {
        Path binary = binary("prometheus").orElseThrow(() -> new IllegalStateException("no prometheus on the PATH"));
        Files.createDirectories(dir);
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
                rule_files: ["%s"]
                scrape_configs:
                  - job_name: scopegate
                    metrics_path: /metrics
                    static_configs: [{targets: ["%s"]}]
                """.formatted(rules.toAbsolutePath(), target));
        int port = freePort();
        Path log = dir.resolve("prometheus.log");
        Process p = new ProcessBuilder(binary.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
                "--storage.tsdb.retention.time=1h", "--log.level=warn")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Prometheus prom = new Prometheus(p, log, port);
        try {
            prom.awaitReady(Duration.ofSeconds(30));
        } catch (Exception | AssertionError e) {
            prom.close();
            throw e;
        }
        return prom;
    }

    private void awaitReady(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError("prometheus exited with " + process.exitValue() + ":\n" + log());
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(base + "/-/ready")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("prometheus not ready in " + timeout + ":\n" + log());
            }
            Thread.sleep(100);
        }
    }

    /** The server's own log (warnings and errors), for failure messages. */
    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** {@code GET /api/v1/<path>?<query>}: the {@code data} member of a successful answer. */
    public JsonNode api(String path, String... params) throws IOException, InterruptedException {
        List<String> q = new ArrayList<>();
        for (int i = 0; i + 1 < params.length; i += 2) {
            q.add(params[i] + "=" + URLEncoder.encode(params[i + 1], StandardCharsets.UTF_8));
        }
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/" + path
                + (q.isEmpty() ? "" : "?" + String.join("&", q)))).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode body = JSON.readTree(r.body());
        if (r.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
            throw new AssertionError("/api/v1/" + path + " " + String.join(" ", params) + " answered " + r.statusCode()
                    + ": " + r.body());
        }
        return body.path("data");
    }

    /** An instant query at the server's now: the {@code result} array (a vector or a scalar). */
    public JsonNode query(String promql) throws IOException, InterruptedException {
        return api("query", "query", promql).path("result");
    }

    /** The sum of an instant vector's values (NaN samples count as 0); 0 when empty. */
    public double sum(String promql) throws IOException, InterruptedException {
        double total = 0;
        for (JsonNode sample : query(promql)) {
            double v = Double.parseDouble(sample.path("value").get(1).asText());
            total += Double.isNaN(v) ? 0 : v;
        }
        return total;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
