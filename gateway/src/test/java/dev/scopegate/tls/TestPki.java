package dev.scopegate.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A private certificate authority made in the test (BouncyCastle, test scope only): issues server
 * certificates for {@code 127.0.0.1}/{@code localhost} and client certificates, writes them as PEM
 * and gives JDK contexts for test servers and clients. Thread-safe.
 */
public final class TestPki {

    private static final AtomicLong SERIALS = new AtomicLong(0x1000);
    private static final char[] PASSWORD = "test".toCharArray();

    private final KeyPair caKeys;
    private final X509Certificate ca;

    private TestPki(KeyPair caKeys, X509Certificate ca) {
        this.caKeys = caKeys;
        this.ca = ca;
    }

    /** A new CA named {@code CN=name}. */
    public static TestPki create(String name) throws Exception {
        KeyPair keys = keyPair("EC");
        X500Name subject = new X500Name("CN=" + name);
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, BigInteger.valueOf(SERIALS.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject, keys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        b.addExtension(Extension.subjectKeyIdentifier, false, new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
        return new TestPki(keys, sign(b, keys.getPrivate()));
    }

    public X509Certificate certificate() {
        return ca;
    }

    /** The CA certificate as PEM. */
    public String pem() throws Exception {
        return pem("CERTIFICATE", ca.getEncoded());
    }

    /** A server certificate (serverAuth) for 127.0.0.1 and localhost, EC P-256. */
    public Leaf server(String cn) throws Exception {
        return issue(cn, "EC", true);
    }

    /** A server certificate with a key of {@code algorithm} (EC, RSA, Ed25519). */
    public Leaf server(String cn, String algorithm) throws Exception {
        return issue(cn, algorithm, true);
    }

    /** A client certificate (clientAuth). */
    public Leaf client(String cn) throws Exception {
        return issue(cn, "EC", false);
    }

    private Leaf issue(String cn, String algorithm, boolean server) throws Exception {
        KeyPair keys = keyPair(algorithm);
        Instant now = Instant.now();
        BigInteger serial = BigInteger.valueOf(SERIALS.incrementAndGet());
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial,
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))),
                new X500Name("CN=" + cn), keys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.extendedKeyUsage, false,
                new ExtendedKeyUsage(server ? KeyPurposeId.id_kp_serverAuth : KeyPurposeId.id_kp_clientAuth));
        if (server) {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
        }
        b.addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca));
        return new Leaf(sign(b, caKeys.getPrivate()), keys.getPrivate(), ca);
    }

    /** A JDK client context trusting only this CA, with no client certificate. */
    public SSLContext clientContext() throws Exception {
        return context(null, ca);
    }

    private static SSLContext context(Leaf leaf, X509Certificate trusted) throws GeneralSecurityException, IOException {
        KeyManagerFactory kmf = null;
        if (leaf != null) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("leaf", leaf.key(), PASSWORD, new X509Certificate[] {leaf.certificate(), leaf.ca()});
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, PASSWORD);
        }
        TrustManagerFactory tmf = null;
        if (trusted != null) {
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            ts.setCertificateEntry("ca", trusted);
            tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
        return ctx;
    }

    /** A certificate this CA issued, with its private key. */
    public record Leaf(X509Certificate certificate, PrivateKey key, X509Certificate ca) {

        public BigInteger serial() {
            return certificate.getSerialNumber();
        }

        /** The leaf then its CA, as PEM (a chain as cert-manager writes {@code tls.crt}). */
        public String chainPem() throws Exception {
            return pem("CERTIFICATE", certificate.getEncoded()) + pem("CERTIFICATE", ca.getEncoded());
        }

        /** The key as unencrypted PKCS#8 PEM. */
        public String keyPem() {
            return pem("PRIVATE KEY", key.getEncoded());
        }

        /** Writes {@link #chainPem()} to {@code cert} and {@link #keyPem()} to {@code key}. */
        public void write(Path cert, Path key) throws Exception {
            Files.writeString(cert, chainPem(), StandardCharsets.US_ASCII);
            Files.writeString(key, keyPem(), StandardCharsets.US_ASCII);
        }

        /**
         * A JDK context presenting this certificate and trusting {@code trusted} (null: the JDK's
         * defaults) for the peer's certificate.
         */
        public SSLContext context(X509Certificate trusted) throws Exception {
            return TestPki.context(this, trusted);
        }
    }

    public static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    static KeyPair keyPair(String algorithm) throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
        switch (algorithm) {
            case "EC" -> g.initialize(new ECGenParameterSpec("secp256r1"));
            case "RSA" -> g.initialize(2048);
            default -> {
                // Ed25519 and friends: no parameters
            }
        }
        return g.generateKeyPair();
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws Exception {
        String algorithm = signer.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(algorithm).build(signer)));
    }
}
