package dev.scopegate.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scopegate.Gateway;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code resources[].challenge} end to end: a resource server behind a {@code routes} entry answers
 * with scripted raw bytes; what the client receives through a real gateway is compared byte for
 * byte — only the {@code WWW-Authenticate} lines of 401/403 answers may differ, in place.
 */
class ChallengeTest {

    static final String RESOURCE = "https://gw.example/api/mcp";
    static final String METADATA = "https://gw.example/.well-known/oauth-protected-resource/api/mcp";
    static final String ADDED = "resource_metadata=\"" + METADATA + "\", scope=\"files:read files:write\"";

    @TempDir
    Path dir;
    IdpStandIn idp;
    RawResourceServer rs;
    Gateway gateway;

    @BeforeEach
    void start() throws Exception {
        idp = new IdpStandIn();
        rs = new RawResourceServer();
    }

    @AfterEach
    void stop() throws IOException {
        if (gateway != null) {
            gateway.close();
        }
        rs.close();
        idp.close();
    }

    void startGateway(boolean challenge) throws Exception {
        Path file = dir.resolve("scopegate.yaml");
        Files.writeString(file, """
                listen: {host: 127.0.0.1, port: 0, drain-timeout: 1s}
                admin: {host: 127.0.0.1, port: 0}
                public-base-url: "https://gw.example"
                upstream: {url: "%s", response-timeout: 5s}
                routes:
                  - {prefix: /api, url: "http://127.0.0.1:%d"}
                resources:
                  - {resource: "%s", scopes-supported: [files:read, files:write], challenge: %s}
                store: {type: embedded, path: "%s"}
                """.formatted(idp.base(), rs.port(), RESOURCE, challenge,
                dir.resolve("data").toString().replace("\\", "/")));
        gateway = Gateway.start(file, name -> null, Duration.ofMillis(50));
    }

    /** A 401 as a minimal resource server sends it: bare Bearer, among other fields, and a second challenge field. */
    static final String BARE_401 = "HTTP/1.1 401 Unauthorized\r\n"
            + "X-Before: 1\r\n"
            + "WWW-Authenticate: Bearer\r\n"
            + "content-type: application/json\r\n"
            + "www-authenticate: Basic realm=\"a, Bearer\", Bearer realm=\"mcp\"\r\n"
            + "X-After: spaced\r\n"
            + "Content-Length: 2\r\n\r\n{}";

    @Test
    void bare401IsCompletedInPlaceAndEveryOtherByteIsKept() throws Exception {
        startGateway(true);
        rs.script("/api/mcp", BARE_401);
        String got = exchange("/api/mcp");
        assertThat(got).isEqualTo(relayed(BARE_401
                .replace("WWW-Authenticate: Bearer\r\n", "WWW-Authenticate: Bearer " + ADDED + "\r\n")
                .replace("Bearer realm=\"mcp\"\r\n", "Bearer realm=\"mcp\", " + ADDED + "\r\n")));
    }

    @Test
    void chunkedBodyAndSubPathsToo() throws Exception {
        startGateway(true);
        String chunked = "HTTP/1.1 401 Unauthorized\r\n"
                + "WWW-Authenticate: Bearer error=\"invalid_token\", error_description=\"expired\"\r\n"
                + "transfer-encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n0\r\n\r\n";
        rs.script("/api/mcp/sse", chunked);
        assertThat(exchange("/api/mcp/sse")).isEqualTo(relayed(chunked.replace("\"expired\"\r\n", "\"expired\", " + ADDED + "\r\n")));
    }

    @Test
    void forbiddenInsufficientScopeGetsTheScopeOnly() throws Exception {
        startGateway(true);
        String insufficient = "HTTP/1.1 403 Forbidden\r\n"
                + "WWW-Authenticate: Bearer error=\"insufficient_scope\"\r\n"
                + "Content-Length: 0\r\n\r\n";
        rs.script("/api/mcp", insufficient);
        assertThat(exchange("/api/mcp")).isEqualTo(relayed(insufficient.replace("\"insufficient_scope\"\r\n",
                "\"insufficient_scope\", scope=\"files:read files:write\"\r\n")));
        String otherError = "HTTP/1.1 403 Forbidden\r\n"
                + "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n"
                + "Content-Length: 0\r\n\r\n";
        rs.script("/api/mcp", otherError);
        assertThat(exchange("/api/mcp")).isEqualTo(relayed(otherError));
    }

    @Test
    void otherStatusesPathsAndCompleteChallengesAreUntouched() throws Exception {
        startGateway(true);
        String ok = "HTTP/1.1 200 OK\r\nWWW-Authenticate: Bearer\r\nContent-Length: 0\r\n\r\n";
        rs.script("/api/mcp", ok);
        assertThat(exchange("/api/mcp")).isEqualTo(relayed(ok));
        // a path of the route outside the resource's path
        rs.script("/api/mcpx", BARE_401);
        assertThat(exchange("/api/mcpx")).isEqualTo(relayed(BARE_401));
        rs.script("/api/other", BARE_401);
        assertThat(exchange("/api/other")).isEqualTo(relayed(BARE_401));
        String complete = "HTTP/1.1 401 Unauthorized\r\n"
                + "WWW-Authenticate: Bearer scope=\"x\", resource_metadata=\"https://elsewhere/x\"\r\n"
                + "Content-Length: 0\r\n\r\n";
        rs.script("/api/mcp", complete);
        assertThat(exchange("/api/mcp")).isEqualTo(relayed(complete));
    }

    @Test
    void offByDefaultEveryByteAsTheResourceServerSentIt() throws Exception {
        startGateway(false);
        rs.script("/api/mcp", BARE_401);
        assertThat(exchange("/api/mcp")).isEqualTo(relayed(BARE_401));
    }

    @Test
    void theAdvertisedMetadataIsServedByTheGateway() throws Exception {
        startGateway(true);
        SeedScenariosTest.waitFor(() -> {
            try {
                return exchange("/.well-known/oauth-protected-resource/api/mcp").startsWith("HTTP/1.1 200");
            } catch (IOException e) {
                return false;
            }
        });
        String doc = exchange("/.well-known/oauth-protected-resource/api/mcp");
        assertThat(doc).contains("\"resource\":\"" + RESOURCE + "\"")
                .contains("\"scopes_supported\":[\"files:read\",\"files:write\"]");
    }

    /**
     * What the client gets for {@code upstream} relayed unchanged: the gateway answers the test's
     * {@code Connection: close} with that field at the end of the head, as it does for any route.
     */
    static String relayed(String upstream) {
        int end = upstream.indexOf("\r\n\r\n");
        return upstream.substring(0, end + 2) + "connection: close\r\n" + upstream.substring(end + 2);
    }

    /** One GET through the gateway on a fresh connection; the whole raw response. */
    String exchange(String path) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), gateway.proxyPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: gw.example\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** Answers each request with the raw bytes scripted for its path (404 otherwise); keep-alive. */
    static final class RawResourceServer implements AutoCloseable {
        private final ServerSocket server;
        private final Map<String, String> scripts = new ConcurrentHashMap<>();
        private final List<Socket> open = new ArrayList<>();

        RawResourceServer() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(this::accept, "raw-resource-server");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        void script(String path, String response) {
            scripts.put(path, response);
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    synchronized (open) {
                        open.add(s);
                    }
                    Thread t = new Thread(() -> serve(s), "raw-resource-connection");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                while (true) {
                    String head = readHead(in);
                    if (head == null) {
                        return;
                    }
                    String path = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
                    String response = scripts.getOrDefault(path, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                    s.getOutputStream().write(response.getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                }
            } catch (IOException e) {
                // connection gone
            }
        }

        private static String readHead(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int matched = 0;
            int c;
            while ((c = in.read()) >= 0) {
                b.write(c);
                matched = (c == '\r' || c == '\n') ? matched + 1 : 0;
                if (matched == 4) {
                    return b.toString(StandardCharsets.ISO_8859_1);
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (open) {
                for (Socket s : open) {
                    s.close();
                }
            }
        }
    }
}
