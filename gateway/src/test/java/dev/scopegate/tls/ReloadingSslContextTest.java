package dev.scopegate.tls;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.MeterNames;
import dev.scopegate.metrics.TlsMetrics;
import dev.scopegate.tls.ReloadingSslContext.Outcome;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Swapping a context only for usable files, counting each real change once. */
class ReloadingSslContextTest {

    private static TestPki pki;

    @TempDir
    Path dir;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final TlsMetrics metrics = new TlsMetrics(registry);

    @BeforeAll
    static void ca() throws Exception {
        pki = TestPki.create("ReloadingSslContextTest CA");
    }

    private double reloads(String context, String outcome) {
        return registry.get(MeterNames.TLS_RELOADS).tag("context", context).tag("outcome", outcome).counter().count();
    }

    private double expiry(String context) {
        return registry.get(MeterNames.TLS_CERTIFICATE_EXPIRY).tag("context", context).gauge().value();
    }

    @Test
    void aNewUsablePairIsSwappedInAndABrokenOneKeepsTheRunningContext() throws Exception {
        Path cert = dir.resolve("tls.crt");
        Path key = dir.resolve("tls.key");
        TestPki.Leaf a = pki.server("a");
        a.write(cert, key);
        try (ReloadingSslContext tls = ReloadingSslContext.server(new ScopegateConfig.Tls(cert.toString(), key.toString()),
                metrics)) {
            SslContext first = tls.get();
            assertThat(first.isServer()).isTrue();
            assertThat(reloads("listener", "ok")).isZero();
            assertThat(reloads("listener", "failed")).isZero();
            assertThat(expiry("listener")).isEqualTo(a.certificate().getNotAfter().toInstant().getEpochSecond());

            assertThat(tls.reloadIfChanged()).as("same bytes").isEqualTo(Outcome.UNCHANGED);
            assertThat(tls.get()).isSameAs(first);

            TestPki.Leaf b = pki.server("b");
            b.write(cert, key);
            assertThat(tls.reloadIfChanged()).isEqualTo(Outcome.RELOADED);
            SslContext second = tls.get();
            assertThat(second).isNotSameAs(first);
            assertThat(tls.description()).contains("CN=b").contains(b.serial().toString(16));
            assertThat(reloads("listener", "ok")).isEqualTo(1);

            // a certificate whose key was not written (yet): refused, counted once however often it is seen
            TestPki.Leaf c = pki.server("c");
            Files.writeString(cert, c.chainPem());
            assertThat(tls.reloadIfChanged()).isEqualTo(Outcome.FAILED);
            assertThat(tls.reloadIfChanged()).isEqualTo(Outcome.UNCHANGED);
            assertThat(tls.get()).isSameAs(second);
            assertThat(reloads("listener", "failed")).isEqualTo(1);
            assertThat(expiry("listener")).isEqualTo(b.certificate().getNotAfter().toInstant().getEpochSecond());

            Files.writeString(key, c.keyPem());
            assertThat(tls.reloadIfChanged()).isEqualTo(Outcome.RELOADED);
            assertThat(tls.description()).contains("CN=c");
            assertThat(reloads("listener", "ok")).isEqualTo(2);

            Files.delete(key);
            assertThat(tls.reloadIfChanged()).isEqualTo(Outcome.FAILED);
            assertThat(tls.description()).contains("CN=c");
        }
    }

    @Test
    void unusableFilesAtStartAreAnErrorNamingKeyAndFile() throws Exception {
        Path cert = dir.resolve("tls.crt");
        Path key = dir.resolve("tls.key");
        pki.server("a").write(cert, key);
        Files.writeString(key, pki.server("b").keyPem());

        assertThatThrownBy(() -> ReloadingSslContext.server(new ScopegateConfig.Tls(cert.toString(), key.toString()), metrics))
                .isInstanceOf(ReloadingSslContext.InvalidFilesException.class)
                .hasMessageStartingWith("listen.tls.key: '" + key + "': the private key does not match the certificate CN=a")
                .hasMessageContaining("in listen.tls.cert '" + cert + "'");
        Files.delete(key);
        assertThatThrownBy(() -> ReloadingSslContext.server(new ScopegateConfig.Tls(cert.toString(), key.toString()), metrics))
                .hasMessageStartingWith("listen.tls.key: '" + key + "' cannot be read");
    }

    @Test
    void aClientContextTrustsTheBundleAndPresentsItsCertificate() throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.pem"), pki.pem());
        Path cert = dir.resolve("client.crt");
        Path key = dir.resolve("client.key");
        TestPki.Leaf client = pki.client("scopegate");
        client.write(cert, key);
        try (ReloadingSslContext tls = ReloadingSslContext.client(
                new ScopegateConfig.UpstreamTls(ca.toString(), cert.toString(), key.toString()), metrics)) {
            assertThat(tls.get().isClient()).isTrue();
            assertThat(tls.description()).contains("trusting 1 CA certificate").contains("client certificate CN=scopegate");
            assertThat(expiry("upstream")).isEqualTo(client.certificate().getNotAfter().toInstant().getEpochSecond());

            Files.writeString(ca, "not a bundle");
            assertThat(tls.reloadIfChanged()).isEqualTo(Outcome.FAILED);
            assertThat(reloads("upstream", "failed")).isEqualTo(1);
            Files.writeString(ca, pki.pem() + TestPki.create("second CA").pem());
            assertThat(tls.reloadIfChanged()).isEqualTo(Outcome.RELOADED);
            assertThat(tls.description()).contains("trusting 2 CA certificates");
        }
        try (ReloadingSslContext bundleOnly = ReloadingSslContext.client(
                new ScopegateConfig.UpstreamTls(ca.toString(), null, null), new TlsMetrics(new SimpleMeterRegistry()))) {
            assertThat(bundleOnly.description()).isEqualTo("trusting 2 CA certificates");
        }
    }
}
