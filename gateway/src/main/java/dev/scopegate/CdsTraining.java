package dev.scopegate;

import dev.scopegate.demo.DemoGuide;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The training run of the class-data-sharing archive built at package time (the gateway's pom):
 * {@code java -XX:ArchiveClassesAtExit=scopegate.jsa -cp scopegate.jar dev.scopegate.CdsTraining}
 * loads what a start and the first requests load — the command line, the config binding, Logback,
 * the store, Netty's server and client, the routes — by starting the demo IdP and a gateway in
 * front of it on free loopback ports, sending a registration, a reconnect without scope, a
 * metadata GET and a plain GET through it, then stopping both. The JVM writes the archive at exit;
 * {@code java -XX:SharedArchiveFile=scopegate.jsa -jar scopegate.jar …} then maps those classes
 * instead of loading and verifying them. Exits 0 when every request went through (no 5xx), else
 * 1 (the archive is written either way). Not part of the product's behaviour: nothing else calls it.
 */
final class CdsTraining {

    private CdsTraining() {
    }

    public static void main(String[] args) throws Exception {
        JvmDefaults.apply();
        int failures = train();
        Logs.stop();
        System.exit(failures == 0 ? 0 : 1);
    }

    /** Starts the demo, sends the requests through the gateway, stops it; returns the requests not answered. */
    static int train() throws Exception {
        // The command line's classes (picocli, the version provider), as `--version` loads them.
        Cli.execute(new String[] {"--version"}, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                System.err);
        int failures = 0;
        try (DemoRun demo = DemoRun.start(true, System::getenv)) {
            String proxy = "http://127.0.0.1:" + demo.ports().proxy();
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            String register = "{\"client_name\":\"training\",\"redirect_uris\":[\"" + DemoGuide.REDIRECT_URI
                    + "\"],\"scope\":\"" + DemoGuide.SCOPE + "\"}";
            failures += send(http, HttpRequest.newBuilder(URI.create(proxy + "/oauth/register"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(register)));
            for (String path : new String[] {"/oauth/authorize?" + DemoGuide.reconnectQuery(),
                    "/.well-known/oauth-authorization-server", "/"}) {
                failures += send(http, HttpRequest.newBuilder(URI.create(proxy + path)).GET());
            }
        }
        return failures;
    }

    /** 0 when the request went through the gateway (a status below 500: the demo IdP decides), else 1. */
    private static int send(HttpClient http, HttpRequest.Builder request) {
        try {
            int status = http.send(request.timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status >= 500) {
                System.err.println("cds training: " + status + " from " + request.build().uri().getPath());
                return 1;
            }
            return 0;
        } catch (Exception e) {
            System.err.println("cds training: " + e);
            return 1;
        }
    }
}
