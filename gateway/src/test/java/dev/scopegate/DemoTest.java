package dev.scopegate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.scopegate.demo.DemoGuide;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code scopegate.jar demo} end to end, as a newcomer runs it: a child JVM prints its ports and
 * commands; each printed {@code curl} line is run as curl would run it (a tiny interpreter of
 * exactly the flags the demo prints, over java.net.http); the refusal, the rewrite and the
 * explanation are checked; then SIGTERM (what Ctrl-C does through the same shutdown hook) stops
 * it and its directory is gone.
 */
class DemoTest {

    private static final JsonMapper JSON = new JsonMapper();
    private static final String READY_LINE = "Ctrl-C stops the demo.";

    private Process demo;
    private final StringBuffer stdout = new StringBuffer();
    private final StringBuffer stderr = new StringBuffer();

    /** SIGTERM first, so that a failed test still lets the demo delete its directory. */
    @AfterEach
    void stop() throws InterruptedException {
        if (demo != null && demo.isAlive()) {
            demo.destroy();
            if (!demo.waitFor(20, TimeUnit.SECONDS)) {
                demo.destroyForcibly();
            }
        }
    }

    @Test
    void thePrintedCommandsShowTheRefusalTheRewriteAndWhy() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        demo = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"), "dev.scopegate.Cli",
                "demo", "--ephemeral-ports").start();
        drain(demo.getInputStream(), stdout);
        drain(demo.getErrorStream(), stderr);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!stdout.toString().contains(READY_LINE)) {
            assertThat(demo.isAlive()).as("demo exited early; stderr:\n%s", stderr).isTrue();
            assertThat(System.nanoTime()).as("no instructions within 60 s; stderr:\n%s", stderr).isLessThan(deadline);
            Thread.sleep(50);
        }
        String text = stdout.toString();
        int idp = port(text, "demo IdP");
        int proxy = port(text, "scopegate");
        int admin = port(text, "admin");
        Matcher files = Pattern.compile("(?m)^\\s+files\\s+(\\S+)").matcher(text);
        assertThat(files.find()).isTrue();
        Path dir = Path.of(files.group(1));
        assertThat(dir).isDirectory();
        assertThat(text).contains("invalid_scope", "x-demo-idp-scope", "x-demo-idp-query", DemoGuide.CLIENT_ID);

        List<String> commands = text.lines().filter(l -> l.startsWith("curl ")).toList();
        assertThat(commands).hasSize(4);

        // 1. Registration through scopegate.
        Curl.Result registered = Curl.run(commands.get(0));
        assertThat(registered.request().uri()).hasPort(proxy).hasPath("/oauth/register");
        assertThat(registered.status()).isEqualTo(201);
        JsonNode client = JSON.readTree(registered.body());
        assertThat(client.path("client_id").asText()).isEqualTo(DemoGuide.CLIENT_ID);
        assertThat(client.path("scope").asText()).isEqualTo(DemoGuide.SCOPE);

        // 2. Without scope, straight to the IdP: refused.
        Curl.Result direct = Curl.run(commands.get(1));
        assertThat(direct.request().uri()).hasPort(idp).hasPath("/oauth/authorize");
        assertThat(direct.request().uri().getRawQuery()).doesNotContain("scope=");
        assertThat(direct.status()).isEqualTo(400);
        assertThat(JSON.readTree(direct.body()).path("error").asText()).isEqualTo("invalid_scope");
        assertThat(direct.header("x-demo-idp-scope")).isEqualTo("(none)");

        // The same through scopegate: the IdP received the registered scope, appended, and redirected with a code.
        Curl.Result through = Curl.run(commands.get(2));
        assertThat(through.request().uri()).hasPort(proxy);
        assertThat(through.request().uri().getRawQuery()).isEqualTo(direct.request().uri().getRawQuery());
        assertThat(through.status()).isEqualTo(302);
        assertThat(through.header("location")).startsWith(DemoGuide.REDIRECT_URI + "?code=")
                .endsWith("&state=" + DemoGuide.STATE);
        assertThat(through.header("x-demo-idp-scope")).isEqualTo(DemoGuide.SCOPE);
        assertThat(through.header("x-demo-idp-query"))
                .isEqualTo(direct.request().uri().getRawQuery() + "&scope=files%3Aread%20files%3Awrite");

        // 3. Why: the registered scope won.
        Curl.Result explain = Curl.run(commands.get(3));
        assertThat(explain.request().uri()).hasPort(admin).hasPath("/admin/explain");
        assertThat(explain.status()).isEqualTo(200);
        JsonNode why = JSON.readTree(explain.body());
        assertThat(why.path("winner").asText()).isEqualTo("REGISTERED");
        assertThat(why.path("scope").asText()).isEqualTo(DemoGuide.SCOPE);

        // Stopping: the shutdown hook closes both servers and deletes the directory.
        demo.destroy();
        assertThat(demo.waitFor(20, TimeUnit.SECONDS)).as("demo still running 20 s after SIGTERM").isTrue();
        assertThat(dir).doesNotExist();
        assertThat(stderr.toString()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void aTakenPortIsReplacedByAFreeOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThat(DemoRun.port(port)).isNotEqualTo(port).isPositive();
        }
        int free;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            free = s.getLocalPort();
        }
        assertThat(DemoRun.port(free)).isEqualTo(free);
    }

    @Test
    void theDemoConfigIsOneStartAccepts() throws Exception {
        Path dir = Files.createTempDirectory("demo-config-");
        Path file = Files.writeString(dir.resolve("scopegate.yaml"), DemoGuide.config(new DemoGuide.Ports(8080, 9090, 8081), dir));
        var config = new dev.scopegate.config.ConfigLoader(s -> null).load(file);
        assertThat(StartChecks.problems(config)).isEmpty();
        assertThat(config.listen().host()).isEqualTo("127.0.0.1");
        assertThat(config.admin().host()).isEqualTo("127.0.0.1");
        assertThat(config.upstream().url()).hasToString("http://127.0.0.1:8081");
        assertThat(config.store().path()).isEqualTo(dir.resolve("data").toAbsolutePath().toString());
        Files.delete(file);
        Files.delete(dir);
    }

    private static int port(String text, String label) {
        Matcher m = Pattern.compile("(?m)^\\s+" + Pattern.quote(label) + "\\s+http://127\\.0\\.0\\.1:(\\d+)").matcher(text);
        assertThat(m.find()).as(label).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static void drain(InputStream in, StringBuffer into) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    into.append(line).append('\n');
                }
            } catch (Exception ignored) {
                // the process ended
            }
        }, "demo-output");
        t.setDaemon(true);
        t.start();
    }

    /**
     * What curl does with the flags the demo prints, and no others: {@code -s} (quiet), {@code -i}
     * (headers in the output), {@code -si}, {@code -H 'Name: value'}, {@code -d 'body'} (POST) and one
     * URL; words in single quotes as a POSIX shell reads them. Anything else fails the test, so the
     * printed commands cannot drift into something this does not check.
     */
    static final class Curl {

        record Result(HttpRequest request, int status, java.net.http.HttpHeaders headers, String body) {
            String header(String name) {
                return headers.firstValue(name).orElse(null);
            }
        }

        static Result run(String line) throws Exception {
            List<String> words = shellWords(line);
            assertThat(words.get(0)).isEqualTo("curl");
            String url = null;
            String data = null;
            List<String> headers = new ArrayList<>();
            for (int i = 1; i < words.size(); i++) {
                String w = words.get(i);
                switch (w) {
                    case "-s", "-i", "-si" -> { }
                    case "-H" -> headers.add(words.get(++i));
                    case "-d" -> data = words.get(++i);
                    default -> {
                        assertThat(w).as("a flag the demo should not print").doesNotStartWith("-");
                        assertThat(url).as("one URL").isNull();
                        url = w;
                    }
                }
            }
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
            boolean contentType = false;
            for (String h : headers) {
                int colon = h.indexOf(':');
                b.header(h.substring(0, colon).strip(), h.substring(colon + 1).strip());
                contentType |= h.regionMatches(true, 0, "content-type", 0, 12);
            }
            if (data != null) {
                if (!contentType) {
                    b.header("Content-Type", "application/x-www-form-urlencoded"); // curl's default for -d
                }
                b.POST(HttpRequest.BodyPublishers.ofString(data));
            }
            HttpRequest request = b.build();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Result(request, r.statusCode(), r.headers(), r.body());
        }

        /** Splits on blanks; single quotes group (no escapes inside, as in sh); a character sh would treat specially outside them fails. */
        static List<String> shellWords(String line) {
            List<String> words = new ArrayList<>();
            StringBuilder w = new StringBuilder();
            boolean quoted = false;
            boolean inWord = false;
            for (char c : line.toCharArray()) {
                if (c == '\'') {
                    quoted = !quoted;
                    inWord = true;
                } else if (!quoted && "&;|<>()$`\"\\*?[]#~{}".indexOf(c) >= 0) {
                    throw new AssertionError("unquoted shell character " + c + " in " + line);
                } else if (c == ' ' && !quoted) {
                    if (inWord) {
                        words.add(w.toString());
                        w.setLength(0);
                        inWord = false;
                    }
                } else {
                    w.append(c);
                    inWord = true;
                }
            }
            assertThat(quoted).as("unbalanced quote in " + line).isFalse();
            if (inWord) {
                words.add(w.toString());
            }
            return words;
        }
    }
}
