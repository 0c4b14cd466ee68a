package dev.scopegate.config;

import dev.scopegate.config.ScopegateConfig.UpstreamTls;
import dev.scopegate.tls.TestPki;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Binding and validation of {@code upstream.tls} and of the PEM content of {@code listen.tls}: the
 * files are read at load (and by {@code check}), so a wrong file is an error naming key, line and
 * file rather than a failed handshake in production.
 */
class TlsConfigTest {

    @TempDir
    static Path dir;
    static Path ca;
    static Path cert;
    static Path key;
    static Path otherKey;
    static Path clientCert;
    static Path clientKey;

    @BeforeAll
    static void files() throws Exception {
        TestPki pki = TestPki.create("TlsConfigTest CA");
        ca = Files.writeString(dir.resolve("ca.pem"), pki.pem());
        cert = dir.resolve("tls.crt");
        key = dir.resolve("tls.key");
        pki.server("listener").write(cert, key);
        otherKey = Files.writeString(dir.resolve("other.key"), pki.server("other").keyPem());
        clientCert = dir.resolve("client.crt");
        clientKey = dir.resolve("client.key");
        pki.client("scopegate").write(clientCert, clientKey);
    }

    private static ScopegateConfig parse(String yaml, Map<String, String> env) throws ConfigException {
        return new ConfigLoader(env::get).parse(yaml, "t.yaml");
    }

    private static List<String> errors(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml, Map.of()));
        assertThat(e).as("expected errors for:\n" + yaml).isNotNull();
        return e.errors();
    }

    private static String https(String tls) {
        return "upstream:\n  url: https://127.0.0.1:8443\n  tls: " + tls + "\n";
    }

    @Test
    void upstreamTlsBindsItsThreeFiles() throws Exception {
        ScopegateConfig c = parse(https("{ca: \"%s\", cert: \"%s\", key: \"%s\"}".formatted(ca, clientCert, clientKey)), Map.of());

        assertThat(c.upstream().tls()).isEqualTo(new UpstreamTls(ca.toString(), clientCert.toString(), clientKey.toString()));
        assertThat(c.upstream().tls().configured()).isTrue();
    }

    @Test
    void aBundleAloneOrACertificateAloneIsEnough() throws Exception {
        assertThat(parse(https("{ca: \"" + ca + "\"}"), Map.of()).upstream().tls())
                .isEqualTo(new UpstreamTls(ca.toString(), null, null));
        assertThat(parse(https("{cert: \"%s\", key: \"%s\"}".formatted(clientCert, clientKey)), Map.of()).upstream().tls())
                .isEqualTo(new UpstreamTls(null, clientCert.toString(), clientKey.toString()));
    }

    @Test
    void emptyValuesMeanUnsetSoEnvironmentVariablesCanSwitchThemOff() throws Exception {
        ScopegateConfig c = parse(https("{ca: \"${CA:}\", cert: \"${CERT:}\", key: \"${KEY:}\"}"), Map.of());

        assertThat(c.upstream().tls()).isEqualTo(UpstreamTls.NONE);
        assertThat(c.upstream().tls().configured()).isFalse();
        assertThat(ConfigLoader.defaults().upstream().tls()).isEqualTo(UpstreamTls.NONE);
    }

    @Test
    void aCertificateWithoutItsKeyIsAnError() {
        assertThat(errors(https("{cert: \"" + clientCert + "\"}"))).singleElement().asString()
                .startsWith("t.yaml:3:").contains("upstream.tls.key: set both tls.cert and tls.key for a client certificate");
        assertThat(errors(https("{key: \"" + clientKey + "\"}"))).singleElement().asString()
                .contains("upstream.tls.cert: set both");
    }

    @Test
    void unreadableOrNonPemFilesAreNamedWithTheirKey() throws Exception {
        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a certificate");

        assertThat(errors(https("{ca: \"" + dir.resolve("missing.pem") + "\"}"))).singleElement().asString()
                .startsWith("t.yaml:3:").contains("upstream.tls.ca: '" + dir.resolve("missing.pem") + "' is not a readable file");
        assertThat(errors(https("{ca: \"" + garbage + "\"}"))).singleElement().asString()
                .contains("upstream.tls.ca: '" + garbage + "' is not a PEM file");
        assertThat(errors(https("{ca: \"" + key + "\"}"))).singleElement().asString()
                .contains("upstream.tls.ca: '" + key + "' holds no PEM certificate");
        assertThat(errors(https("{cert: \"%s\", key: \"%s\"}".formatted(clientCert, clientCert)))).singleElement().asString()
                .contains("upstream.tls.key: '" + clientCert + "' holds no PEM private key");
    }

    @Test
    void aKeyOfAnotherCertificateIsAnErrorNamingBothFiles() {
        assertThat(errors(https("{cert: \"%s\", key: \"%s\"}".formatted(clientCert, otherKey)))).singleElement().asString()
                .startsWith("t.yaml:3:")
                .contains("upstream.tls.key: '" + otherKey + "': the private key does not match the certificate CN=scopegate")
                .contains("in upstream.tls.cert '" + clientCert + "'");
        assertThat(errors("listen: {tls: {cert: \"%s\", key: \"%s\"}}".formatted(cert, otherKey))).singleElement().asString()
                .startsWith("t.yaml:1:").contains("listen.tls.key: '" + otherKey + "': the private key does not match")
                .contains("in listen.tls.cert '" + cert + "'");
    }

    @Test
    void listenerFilesAreReadNotOnlyFoundReadable() {
        assertThat(errors("listen: {tls: {cert: \"%s\", key: \"%s\"}}".formatted(key, key))).singleElement().asString()
                .contains("listen.tls.cert: '" + key + "' holds no PEM certificate");
        assertThat(errors("listen: {tls: {cert: \"%s\", key: \"%s\"}}".formatted(cert, cert))).singleElement().asString()
                .contains("listen.tls.key: '" + cert + "' holds no PEM private key");
    }

    @Test
    void upstreamTlsForAPlainHttpIdpIsAnError() {
        assertThat(errors("upstream: {url: \"http://127.0.0.1:8081\", tls: {ca: \"" + ca + "\"}}")).singleElement().asString()
                .startsWith("t.yaml:1:").contains("upstream.tls: applies to an https IdP, but upstream.url is http://127.0.0.1:8081");
    }

    @Test
    void unknownKeysUnderUpstreamTlsAreErrorsWithASuggestion() {
        assertThat(errors(https("{crt: \"" + clientCert + "\"}"))).singleElement().asString()
                .contains("upstream.tls.crt: unknown key; did you mean 'cert'?");
    }

    @Test
    void upstreamTlsFilesAreRestartOnlyAndPinnedOnReload() throws Exception {
        ScopegateConfig running = parse(https("{ca: \"" + ca + "\"}"), Map.of());
        ScopegateConfig edited = parse(https("{cert: \"%s\", key: \"%s\"}".formatted(clientCert, clientKey)), Map.of());

        assertThat(ConfigChanges.diff(running, edited)).containsExactlyInAnyOrder("upstream.tls.ca", "upstream.tls.cert",
                "upstream.tls.key");
        assertThat(ConfigChanges.diff(running, edited)).allMatch(ConfigChanges::restartOnly);
        assertThat(ConfigChanges.pinRestartOnly(running, edited).upstream().tls()).isEqualTo(running.upstream().tls());
    }

    @Test
    void theExampleFileDocumentsUpstreamTls() throws Exception {
        Path example = Path.of("../config/scopegate.yaml");
        String text = Files.readString(example);

        assertThat(text).contains("  tls:").contains("ca: \"${SCOPEGATE_UPSTREAM_CA:}\"")
                .contains("cert: \"${SCOPEGATE_UPSTREAM_CERT:}\"").contains("key: \"${SCOPEGATE_UPSTREAM_KEY:}\"");
        assertThat(new ConfigLoader(name -> null).load(example).upstream().tls()).isEqualTo(UpstreamTls.NONE);
    }
}
