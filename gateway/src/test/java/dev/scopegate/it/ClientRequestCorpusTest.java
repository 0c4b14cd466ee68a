package dev.scopegate.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.scopegate.Gateway;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The corpus of real client request shapes ({@code src/test/resources/corpus/client-requests.yaml}):
 * each entry through a real gateway (one per distinct config, over real sockets) to a recording IdP,
 * asserting the exact request line and body the IdP received, or scopegate's own answer. Entries
 * marked {@code pending} need keys not merged yet and are skipped with their reason.
 */
class ClientRequestCorpusTest {

    static final String CORPUS = "/corpus/client-requests.yaml";

    /** What the recording IdP received (well-known requests are not recorded). */
    record Received(String method, String target, String body) {}

    static HttpServer idp;
    static final List<Received> received = new CopyOnWriteArrayList<>();
    static final Map<String, Gateway> gateways = new LinkedHashMap<>();
    static Path dir;

    @BeforeAll
    static void startIdp() throws IOException {
        dir = Files.createTempDirectory("corpus");
        idp = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        idp.createContext("/", ClientRequestCorpusTest::answer);
        idp.start();
    }

    @AfterAll
    static void stopAll() throws IOException {
        gateways.values().forEach(Gateway::close);
        gateways.clear();
        idp.stop(0);
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static Stream<Arguments> entries() throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        try (InputStream in = ClientRequestCorpusTest.class.getResourceAsStream(CORPUS)) {
            JsonNode all = yaml.readTree(in);
            List<Arguments> out = new ArrayList<>();
            all.forEach(e -> out.add(Arguments.of(e.path("id").asText(), e)));
            return out.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entries")
    void throughTheGateway(String id, JsonNode entry) throws Exception {
        assertThat(entry.path("client").asText()).as("client").isNotBlank();
        assertThat(entry.path("source").asText()).as("source").isNotBlank();
        Assumptions.assumeTrue(entry.path("pending").isMissingNode(), () -> "pending: " + entry.path("pending").asText());

        Gateway gateway = gatewayFor(entry.path("config").asText(""));
        received.clear();
        JsonNode request = entry.path("request");
        String response = send(gateway.proxyPort(), request.path("method").asText(), request.path("target").asText(),
                request.path("content-type").asText(null), request.path("body").asText(null));

        JsonNode expect = entry.path("expect");
        if (expect.has("status")) {
            assertThat(response).as("scopegate's answer").startsWith("HTTP/1.1 " + expect.path("status").asInt() + " ");
        }
        JsonNode idpExpect = expect.path("idp");
        if (idpExpect.isNull()) {
            assertThat(received).as("nothing reaches the IdP").isEmpty();
            return;
        }
        assertThat(received).as("requests at the IdP").hasSize(1);
        Received got = received.get(0);
        assertThat(got.method()).isEqualTo(idpExpect.path("method").asText());
        assertThat(got.target()).as("request target at the IdP").isEqualTo(idpExpect.path("target").asText());
        if (idpExpect.has("body")) {
            assertThat(got.body()).as("body at the IdP").isEqualTo(idpExpect.path("body").asText());
        }
    }

    static Gateway gatewayFor(String config) throws Exception {
        Gateway g = gateways.get(config);
        if (g != null) {
            return g;
        }
        Path file = dir.resolve("scopegate-" + gateways.size() + ".yaml");
        Files.writeString(file, """
                listen: {host: 127.0.0.1, port: 0, drain-timeout: 1s}
                admin: {host: 127.0.0.1, port: 0}
                upstream: {url: "http://127.0.0.1:%d", response-timeout: 5s}
                store: {type: embedded, path: "%s"}
                logging: {access: false}
                %s
                """.formatted(idp.getAddress().getPort(),
                dir.resolve("data-" + gateways.size()).toString().replace("\\", "/"), config));
        g = Gateway.start(file, name -> null, Duration.ofMillis(50));
        gateways.put(config, g);
        Gateway started = g;
        SeedScenariosTest.waitFor(() -> {
            try {
                return send(started.adminPort(), "GET", "/readyz", null, null).startsWith("HTTP/1.1 200");
            } catch (IOException e) {
                return false;
            }
        });
        return g;
    }

    /** One request as raw bytes on a fresh connection; the whole raw response. */
    static String send(int port, String method, String target, String contentType, String body) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                    .append("Host: gw.example\r\nConnection: close\r\n");
            byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            if (body != null) {
                head.append("Content-Type: ").append(contentType).append("\r\nContent-Length: ").append(bytes.length)
                        .append("\r\n");
            }
            OutputStream out = s.getOutputStream();
            out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(bytes);
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private static void answer(HttpExchange x) throws IOException {
        String path = x.getRequestURI().getRawPath();
        String query = x.getRequestURI().getRawQuery();
        byte[] body = x.getRequestBody().readAllBytes();
        String base = "http://127.0.0.1:" + idp.getAddress().getPort();
        String json;
        int status = 200;
        if (path.startsWith("/.well-known/")) {
            if (!path.equals("/.well-known/oauth-authorization-server")) {
                reply(x, 404, "{}");
                return;
            }
            json = """
                    {"issuer":"%1$s","authorization_endpoint":"%1$s/oauth/authorize","token_endpoint":"%1$s/oauth/token",
                     "registration_endpoint":"%1$s/oauth/register","pushed_authorization_request_endpoint":"%1$s/oauth/par",
                     "response_types_supported":["code"],"code_challenge_methods_supported":["S256"]}
                    """.formatted(base);
            reply(x, 200, json);
            return;
        }
        received.add(new Received(x.getRequestMethod(), path + (query == null ? "" : "?" + query),
                new String(body, StandardCharsets.UTF_8)));
        switch (path) {
            case "/oauth/register" -> {
                ObjectNode doc = (ObjectNode) new ObjectMapper().readTree(body);
                doc.put("client_id", "corpus-" + received.size());
                json = doc.toString();
                status = 201;
            }
            case "/oauth/par" -> {
                json = "{\"request_uri\":\"urn:ietf:params:oauth:request_uri:corpus\",\"expires_in\":60}";
                status = 201;
            }
            case "/oauth/token" -> json = "{\"access_token\":\"t\",\"token_type\":\"Bearer\"}";
            default -> json = "{}";
        }
        reply(x, status, json);
    }

    private static void reply(HttpExchange x, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }
}
