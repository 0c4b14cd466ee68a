package dev.scopegate.tls;

import dev.scopegate.Gateway;
import dev.scopegate.ops.Harness;
import dev.scopegate.ops.TestIdp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code upstream.tls} end to end: a gateway started from a config file in front of an https IdP
 * whose certificate comes from a private CA made in the test, over real sockets. Every connection
 * to the IdP's origin — proxied requests and the metadata fetches readiness waits for — trusts the
 * bundle and presents the client certificate; a route to another origin does not.
 */
@Timeout(90)
class UpstreamTlsTest {

    /** Every endpoint named: requests are forwarded even before the first metadata (no 503 wait). */
    private static final String ENDPOINTS =
            "endpoints: {authorization: /oauth/authorize, par: /oauth/par, registration: /oauth/register, token: /oauth/token}";

    private static TestPki pki;

    @TempDir
    Path dir;
    private Harness h;

    @BeforeAll
    static void ca() throws Exception {
        pki = TestPki.create("UpstreamTlsTest private CA");
    }

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    /** The harness config with {@code upstreamExtra} (flow-mapping entries) added to {@code upstream:}. */
    private String yaml(String upstreamExtra, String extra) {
        String y = h.yaml("", ENDPOINTS + "\n" + extra);
        String upstream = "response-timeout: 5s}";
        assertThat(y).contains(upstream);
        return upstreamExtra.isEmpty() ? y : y.replace(upstream, "response-timeout: 5s, " + upstreamExtra + "}");
    }

    /** Starts the gateway without waiting for readiness (it never comes when the IdP cannot be reached). */
    private void startUnready(String text) throws Exception {
        Files.writeString(h.file, text, StandardCharsets.UTF_8);
        h.gateway = Gateway.start(h.file, h.env::get, Duration.ofMillis(100));
    }

    private void stopGateway() {
        h.gateway.close();
        h.gateway = null;
    }

    private Path write(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content, StandardCharsets.US_ASCII);
    }

    @Test
    void anIdpCertifiedByAPrivateCaIsReachedWithTheBundleAndOnlyWithIt() throws Exception {
        h = new Harness(dir, new TestIdp(pki.server("idp").context(null), false));
        Path ca = write("ca.pem", pki.pem());

        // Without upstream.tls the JDK trust store knows nothing of the private CA.
        startUnready(yaml("", ""));
        assertThat(h.get(h.gw() + "/hello").statusCode()).isEqualTo(502);
        assertThat(h.status(h.admin() + "/readyz")).isEqualTo(503);
        assertThat(h.idp.clientCertificates).isEmpty(); // no handshake ever completed
        stopGateway();

        try (TestIdp other = new TestIdp(pki.server("other").context(null), false)) {
            // With the bundle: metadata is fetched over TLS (start() waits for /readyz 200), requests pass.
            h.start(yaml("tls: {ca: \"" + ca + "\"}", "routes: [{prefix: /other, url: \"" + other.base() + "\"}]"));
            HttpResponse<String> hello = h.get(h.gw() + "/hello");
            assertThat(hello.statusCode()).isEqualTo(200);
            assertThat(hello.body()).isEqualTo("hello from /hello");
            HttpResponse<String> metadata = h.get(h.gw() + "/.well-known/oauth-authorization-server");
            assertThat(metadata.statusCode()).isEqualTo(200);
            assertThat(metadata.body()).contains("\"issuer\":\"" + h.idp.base() + "\"");
            assertThat(h.get(h.admin() + "/readyz").body()).containsPattern("\"metadata\"\\s*:\\s*true");
            assertThat(h.idp.clientCertificates).contains("/hello -", "/.well-known/oauth-authorization-server -");

            // A route to another origin keeps the JDK trust store, even with a certificate of the same CA.
            assertThat(h.get(h.gw() + "/other/x").statusCode()).isEqualTo(502);
            assertThat(other.clientCertificates).isEmpty();
            assertThat(h.scrape().value("scopegate_tls_reloads_total", "context", "upstream", "outcome", "failed")).isZero();
        }
    }

    @Test
    void anIdpThatRequiresAClientCertificateGetsTheConfiguredOneAndItsReplacement() throws Exception {
        h = new Harness(dir, new TestIdp(pki.server("idp").context(pki.certificate()), true));
        Path ca = write("ca.pem", pki.pem());
        Path cert = dir.resolve("client.crt");
        Path key = dir.resolve("client.key");
        pki.client("scopegate").write(cert, key);

        // Trusting the IdP is not enough: without a client certificate the handshake fails.
        startUnready(yaml("tls: {ca: \"" + ca + "\"}", ""));
        assertThat(h.get(h.gw() + "/hello").statusCode()).isEqualTo(502);
        assertThat(h.status(h.admin() + "/readyz")).isEqualTo(503);
        assertThat(h.idp.clientCertificates).isEmpty();
        stopGateway();

        // With it: the metadata fetch and the proxied request present it. Pooled connections idle
        // 1 s and metadata is re-fetched every second, so the replacement below reaches both paths.
        h.start(yaml("idle-timeout: 1s, tls: {ca: \"%s\", cert: \"%s\", key: \"%s\"}".formatted(ca, cert, key),
                "metadata: {refresh: 1s}"));
        assertThat(h.get(h.gw() + "/hello").statusCode()).isEqualTo(200);
        assertThat(h.idp.clientCertificates).contains("/hello CN=scopegate", "/.well-known/oauth-authorization-server CN=scopegate");
        assertThat(h.scrape().value("scopegate_tls_certificate_expiry_timestamp_seconds", "context", "upstream"))
                .isPositive();

        // cert-manager renews the client certificate in place: new connections present the new one.
        TestPki.Leaf renewed = pki.client("scopegate-renewed");
        renewed.write(cert, key);
        Harness.waitFor(() -> reloads("ok") == 1);
        Harness.waitFor(() -> h.idp.clientCertificates.contains("/.well-known/oauth-authorization-server CN=scopegate-renewed"));
        String last = null;
        for (int i = 0; i < 8 && !"/hello CN=scopegate-renewed".equals(last); i++) {
            Thread.sleep(1500); // past the pool's idle timeout: the next request opens a new connection
            assertThat(h.get(h.gw() + "/hello").statusCode()).isEqualTo(200);
            List<String> seen = h.idp.clientCertificates.stream().filter(s -> s.startsWith("/hello ")).toList();
            last = seen.get(seen.size() - 1);
        }
        assertThat(last).isEqualTo("/hello CN=scopegate-renewed");
        assertThat(h.scrape().value("scopegate_tls_certificate_expiry_timestamp_seconds", "context", "upstream"))
                .isEqualTo(renewed.certificate().getNotAfter().toInstant().getEpochSecond());
        assertThat(reloads("failed")).isZero();
    }

    private double reloads(String outcome) {
        try {
            return h.scrape().value("scopegate_tls_reloads_total", "context", "upstream", "outcome", outcome);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
