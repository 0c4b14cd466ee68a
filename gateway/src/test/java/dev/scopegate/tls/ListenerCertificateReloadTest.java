package dev.scopegate.tls;

import ch.qos.logback.classic.Level;
import dev.scopegate.ops.Harness;
import dev.scopegate.ops.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The listener's certificate is re-read when its files change, the way cert-manager and Kubernetes
 * change them, on a gateway started from a config file, over real sockets: a connection opened
 * after the change is served the new certificate (checked by serial number), a connection opened
 * before it keeps working on its session, and a broken replacement keeps the running certificate,
 * logs one line and counts a failure.
 */
@Timeout(90)
class ListenerCertificateReloadTest {

    private static TestPki pki;
    private static SSLContext client;

    @TempDir
    Path dir;
    private Harness h;

    @BeforeAll
    static void ca() throws Exception {
        pki = TestPki.create("ListenerCertificateReloadTest CA");
        client = pki.clientContext();
    }

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    private void start(Path cert, Path key) throws Exception {
        h = new Harness(dir);
        String listen = "listen: {host: 127.0.0.1, port: 0, drain-timeout: 1s}";
        String yaml = h.yaml("", "");
        assertThat(yaml).contains(listen);
        h.start(yaml.replace(listen, "listen: {host: 127.0.0.1, port: 0, drain-timeout: 1s, tls: {cert: \"%s\", key: \"%s\"}}"
                .formatted(cert, key)));
    }

    /** The serial of the certificate a new connection is served (after a request on it succeeded). */
    private BigInteger served() throws IOException {
        try (TlsClient c = TlsClient.connect(h.gateway.proxyPort(), client)) {
            assertThat(c.get("/hello").status()).isEqualTo(200);
            return c.peerSerial();
        }
    }

    private void awaitServed(TestPki.Leaf leaf) throws InterruptedException {
        Harness.waitFor(() -> {
            try {
                return served().equals(leaf.serial());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private double reloads(String outcome) {
        try {
            return h.scrape().value("scopegate_tls_reloads_total", "context", "listener", "outcome", outcome);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A request on an open connection still works, on the session (and certificate) it started with. */
    private static void stillWorks(TlsClient open, TestPki.Leaf original) throws IOException {
        TlsClient.Response r = open.get("/still-here");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("hello from /still-here");
        assertThat(open.peerSerial()).isEqualTo(original.serial());
    }

    @Test
    void filesReplacedInPlace() throws Exception {
        Path cert = dir.resolve("tls.crt");
        Path key = dir.resolve("tls.key");
        TestPki.Leaf a = pki.server("gateway-a");
        a.write(cert, key);
        start(cert, key);
        assertThat(served()).isEqualTo(a.serial());
        assertThat(h.scrape().value("scopegate_tls_certificate_expiry_timestamp_seconds", "context", "listener"))
                .isEqualTo(a.certificate().getNotAfter().toInstant().getEpochSecond());

        try (TlsClient open = TlsClient.connect(h.gateway.proxyPort(), client)) {
            assertThat(open.get("/first").status()).isEqualTo(200);

            TestPki.Leaf b = pki.server("gateway-b");
            b.write(cert, key);
            awaitServed(b);
            stillWorks(open, a);
            Harness.waitFor(() -> reloads("ok") >= 1);
            assertThat(h.scrape().value("scopegate_tls_certificate_expiry_timestamp_seconds", "context", "listener"))
                    .isEqualTo(b.certificate().getNotAfter().toInstant().getEpochSecond());

            // A new certificate whose key has not come (yet): refused, the running certificate stays.
            double failedBefore = reloads("failed");
            TestPki.Leaf c = pki.server("gateway-c");
            try (LogCapture log = new LogCapture(ReloadingSslContext.class.getName(), Level.INFO)) {
                Files.writeString(cert, c.chainPem());
                Harness.waitFor(() -> reloads("failed") == failedBefore + 1);
                assertThat(served()).isEqualTo(b.serial());
                assertThat(log.messages()).singleElement().asString()
                        .startsWith("listen.tls files changed but cannot be used, keeping the running ones: listen.tls.key: '"
                                + key + "': the private key does not match the certificate CN=gateway-c");
            }
            stillWorks(open, a);

            // The right key arrives: served at last.
            Files.writeString(key, c.keyPem());
            awaitServed(c);
            stillWorks(open, a);
        }
    }

    @Test
    void aKubernetesSecretVolumeSwapsItsDataLink() throws Exception {
        // The kubelet's layout: tls.crt -> ..data/tls.crt, ..data -> ..<generation>/
        Path volume = Files.createDirectories(dir.resolve("certs"));
        TestPki.Leaf a = pki.server("gateway-a");
        generation(volume, "..gen1", a);
        Files.createSymbolicLink(volume.resolve("..data"), Path.of("..gen1"));
        Files.createSymbolicLink(volume.resolve("tls.crt"), Path.of("..data", "tls.crt"));
        Files.createSymbolicLink(volume.resolve("tls.key"), Path.of("..data", "tls.key"));
        start(volume.resolve("tls.crt"), volume.resolve("tls.key"));
        assertThat(served()).isEqualTo(a.serial());

        try (TlsClient open = TlsClient.connect(h.gateway.proxyPort(), client)) {
            assertThat(open.get("/first").status()).isEqualTo(200);

            TestPki.Leaf b = pki.server("gateway-b");
            swap(volume, "..gen1", "..gen2", b);
            awaitServed(b);
            stillWorks(open, a);

            // A generation whose key belongs to another certificate.
            double failedBefore = reloads("failed");
            Path broken = Files.createDirectories(volume.resolve("..gen3"));
            Files.writeString(broken.resolve("tls.crt"), pki.server("gateway-c").chainPem());
            Files.writeString(broken.resolve("tls.key"), b.keyPem());
            relink(volume, "..gen2", "..gen3");
            Harness.waitFor(() -> reloads("failed") == failedBefore + 1);
            assertThat(served()).isEqualTo(b.serial());
            stillWorks(open, a);

            TestPki.Leaf d = pki.server("gateway-d");
            swap(volume, "..gen3", "..gen4", d);
            awaitServed(d);
            stillWorks(open, a);
            assertThat(reloads("ok")).isGreaterThanOrEqualTo(2);
        }
    }

    private static void generation(Path volume, String name, TestPki.Leaf leaf) throws Exception {
        Path gen = Files.createDirectories(volume.resolve(name));
        leaf.write(gen.resolve("tls.crt"), gen.resolve("tls.key"));
    }

    /** A Secret update as the kubelet makes it: a new generation, ..data renamed over, the old one removed. */
    private static void swap(Path volume, String from, String to, TestPki.Leaf leaf) throws Exception {
        generation(volume, to, leaf);
        relink(volume, from, to);
    }

    private static void relink(Path volume, String from, String to) throws IOException {
        Path tmp = Files.createSymbolicLink(volume.resolve("..data_tmp"), Path.of(to));
        Files.move(tmp, volume.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Path old = volume.resolve(from);
        try (var files = Files.list(old)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(old);
    }
}
