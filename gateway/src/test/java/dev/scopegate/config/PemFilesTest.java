package dev.scopegate.config;

import dev.scopegate.tls.TestPki;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the TLS files of listen.tls and upstream.tls may hold, and what is refused with which words. */
class PemFilesTest {

    private static TestPki pki;
    private static TestPki.Leaf ec;

    @BeforeAll
    static void ca() throws Exception {
        pki = TestPki.create("PemFilesTest CA");
        ec = pki.server("ec.test");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aBundleWithCommentsYieldsEveryCertificateInOrder() throws Exception {
        String bundle = "# private CA bundle\nPemFilesTest CA\n===============\n" + pki.pem() + "\nsome text\n" + ec.chainPem();

        List<X509Certificate> certs = PemFiles.certificates(bytes(bundle));

        assertThat(certs).containsExactly(pki.certificate(), ec.certificate(), pki.certificate());
    }

    @Test
    void aCertificateAndItsKeyMayShareOneFile() throws Exception {
        byte[] both = bytes(ec.keyPem() + ec.chainPem());

        assertThat(PemFiles.certificates(both).get(0)).isEqualTo(ec.certificate());
        assertThat(PemFiles.privateKey(both)).isEqualTo(ec.key());
        PemFiles.checkPair(PemFiles.privateKey(both), PemFiles.certificates(both).get(0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"EC", "RSA", "Ed25519"})
    void pkcs8KeysOfEveryCommonAlgorithmAreReadAndMatched(String algorithm) throws Exception {
        TestPki.Leaf leaf = pki.server("k.test", algorithm);

        PrivateKey key = PemFiles.privateKey(bytes(leaf.keyPem()));

        assertThat(key.getEncoded()).isEqualTo(leaf.key().getEncoded());
        PemFiles.checkPair(key, leaf.certificate());
    }

    @Test
    void pkcs1RsaKeysAsCertManagerWritesThemAreRead() throws Exception {
        TestPki.Leaf rsa = pki.server("rsa.test", "RSA");
        byte[] pkcs1 = PrivateKeyInfo.getInstance(rsa.key().getEncoded()).parsePrivateKey().toASN1Primitive().getEncoded();

        PrivateKey key = PemFiles.privateKey(bytes(TestPki.pem("RSA PRIVATE KEY", pkcs1)));

        assertThat(key.getEncoded()).isEqualTo(rsa.key().getEncoded());
        PemFiles.checkPair(key, rsa.certificate());
    }

    @Test
    void sec1EcKeysAreReadWithTheCurveInsideOrInAnEcParametersBlock() throws Exception {
        java.math.BigInteger s = ((ECPrivateKey) ec.key()).getS();
        byte[] withCurve = new org.bouncycastle.asn1.sec.ECPrivateKey(256, s, SECObjectIdentifiers.secp256r1).getEncoded();
        byte[] withoutCurve = new org.bouncycastle.asn1.sec.ECPrivateKey(256, s).getEncoded();
        String parameters = TestPki.pem("EC PARAMETERS", SECObjectIdentifiers.secp256r1.getEncoded());

        PrivateKey inside = PemFiles.privateKey(bytes(TestPki.pem("EC PRIVATE KEY", withCurve)));
        PrivateKey separate = PemFiles.privateKey(bytes(parameters + TestPki.pem("EC PRIVATE KEY", withoutCurve)));

        assertThat(((ECPrivateKey) inside).getS()).isEqualTo(s);
        assertThat(((ECPrivateKey) separate).getS()).isEqualTo(s);
        PemFiles.checkPair(inside, ec.certificate());
        assertThatThrownBy(() -> PemFiles.privateKey(bytes(TestPki.pem("EC PRIVATE KEY", withoutCurve))))
                .hasMessageContaining("names no curve");
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() throws Exception {
        TestPki.Leaf other = pki.server("other.test");
        TestPki.Leaf rsa = pki.server("rsa.test", "RSA");

        assertThatThrownBy(() -> PemFiles.checkPair(other.key(), ec.certificate()))
                .isInstanceOf(PemFiles.PemException.class)
                .hasMessageContaining("the private key does not match the certificate CN=ec.test");
        assertThatThrownBy(() -> PemFiles.checkPair(rsa.key(), ec.certificate()))
                .hasMessageContaining("does not match").hasMessageContaining("the key is RSA, the certificate's is EC");
        // the CA first and the leaf second: the key matches no first certificate
        assertThatThrownBy(() -> PemFiles.checkPair(ec.key(), pki.certificate())).hasMessageContaining("not its CA");
    }

    @Test
    void encryptedKeysAreRefusedWithTheWayOut() {
        String pkcs8 = TestPki.pem("ENCRYPTED PRIVATE KEY", new byte[] {0x30, 0x00});
        String legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n"
                + "-----END RSA PRIVATE KEY-----\n";

        assertThatThrownBy(() -> PemFiles.privateKey(bytes(pkcs8))).hasMessageContaining("encrypted")
                .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
        assertThatThrownBy(() -> PemFiles.privateKey(bytes(legacy))).hasMessageContaining("encrypted");
    }

    @Test
    void filesWithoutWhatTheyShouldHoldAreRefused() throws Exception {
        assertThatThrownBy(() -> PemFiles.certificates(bytes(""))).hasMessage("is empty");
        assertThatThrownBy(() -> PemFiles.certificates(bytes("hello"))).hasMessageContaining("is not a PEM file");
        assertThatThrownBy(() -> PemFiles.certificates(bytes(ec.keyPem()))).hasMessageContaining("holds no PEM certificate");
        assertThatThrownBy(() -> PemFiles.privateKey(bytes(ec.chainPem()))).hasMessageContaining("holds no PEM private key");
        assertThatThrownBy(() -> PemFiles.certificates(bytes(TestPki.pem("CERTIFICATE", new byte[] {1, 2, 3}))))
                .hasMessageContaining("certificate #1 cannot be parsed");
        assertThatThrownBy(() -> PemFiles.privateKey(bytes(TestPki.pem("PRIVATE KEY", new byte[] {0x30, 0x00}))))
                .hasMessageContaining("the private key cannot be parsed");
        assertThatThrownBy(() -> PemFiles.privateKey(bytes(TestPki.pem("OPENSSH PRIVATE KEY", new byte[] {1}))))
                .hasMessageContaining("'OPENSSH PRIVATE KEY'").hasMessageContaining("PKCS#8");
        assertThatThrownBy(() -> PemFiles.certificates(bytes("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")))
                .hasMessageContaining("not valid base64");
    }
}
