package dev.scopegate.config;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.PSSParameterSpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the PEM files of {@code listen.tls} and {@code upstream.tls} with the JDK alone, so that a
 * config check and the running gateway judge a file the same way.
 *
 * <ul>
 *   <li>Certificates: every {@code CERTIFICATE} block of a file, in file order (a chain starts with
 *       its leaf). Text between blocks (the comments of a CA bundle) and other blocks are ignored, so
 *       a certificate and its key may share one file.
 *   <li>Private keys: the first key block: PKCS#8 ({@code PRIVATE KEY}: RSA, EC, Ed25519, Ed448,
 *       RSASSA-PSS, DSA), PKCS#1 ({@code RSA PRIVATE KEY}) and SEC1 ({@code EC PRIVATE KEY}; its curve
 *       from the block or from an {@code EC PARAMETERS} block) — the last two are what cert-manager
 *       and {@code openssl genrsa}/{@code ecparam} write by default. Encrypted keys are refused.
 *   <li>A key matches a certificate when a signature made with the key verifies with the
 *       certificate's public key.
 * </ul>
 *
 * Messages say what is wrong, never where: callers put the config key and file in front. Stateless.
 */
public final class PemFiles {

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
    private static final String[] KEY_ALGORITHMS = {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS", "DSA"};
    /** AlgorithmIdentifier of rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters. */
    private static final byte[] RSA_ALGORITHM = {
        0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    /** The OID id-ecPublicKey (1.2.840.10045.2.1), tag and length included. */
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    /** A file that cannot be used; the message is meant for the operator. */
    public static final class PemException extends Exception {
        public PemException(String message) {
            super(message);
        }
    }

    private PemFiles() {
    }

    /** One PEM block: its label ({@code CERTIFICATE}, {@code PRIVATE KEY} …) and its decoded bytes. */
    private record Block(String label, String body) {}

    /** The certificates of a PEM text, in order; at least one. */
    public static List<X509Certificate> certificates(byte[] pem) throws PemException {
        List<X509Certificate> out = new ArrayList<>();
        CertificateFactory factory;
        try {
            factory = CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException("the JDK has no X.509 certificate factory", e);
        }
        int n = 0;
        for (Block b : blocks(pem)) {
            if (!b.label().equals("CERTIFICATE")) {
                continue;
            }
            n++;
            try {
                out.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(decode(b, n))));
            } catch (CertificateException e) {
                throw new PemException("certificate #" + n + " cannot be parsed: " + e.getMessage());
            }
        }
        if (out.isEmpty()) {
            throw new PemException("holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        return List.copyOf(out);
    }

    /** The first private key of a PEM text (see the class comment for the formats read). */
    public static PrivateKey privateKey(byte[] pem) throws PemException {
        byte[] curve = null;
        for (Block b : blocks(pem)) {
            switch (b.label()) {
                case "PRIVATE KEY" -> {
                    return pkcs8(decode(b, 1));
                }
                case "RSA PRIVATE KEY" -> {
                    refuseLegacyEncryption(b);
                    return pkcs8(der(0x30, concat(new byte[] {0x02, 0x01, 0x00}, RSA_ALGORITHM, der(0x04, decode(b, 1)))));
                }
                case "EC PARAMETERS" -> curve = decode(b, 1);
                case "EC PRIVATE KEY" -> {
                    refuseLegacyEncryption(b);
                    return sec1(decode(b, 1), curve);
                }
                case "ENCRYPTED PRIVATE KEY" -> throw new PemException("holds an encrypted private key: give scopegate"
                        + " an unencrypted one (openssl pkcs8 -topk8 -nocrypt -in IN -out OUT) on a file only it can read");
                default -> {
                    if (b.label().endsWith("PRIVATE KEY")) {
                        throw new PemException("holds a '" + b.label() + "' block: use a PKCS#8 key (-----BEGIN PRIVATE KEY-----)");
                    }
                }
            }
        }
        throw new PemException("holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
    }

    /**
     * Whether {@code key} belongs to {@code certificate}: a signature made with the key must verify
     * with the certificate's public key.
     */
    public static void checkPair(PrivateKey key, X509Certificate certificate) throws PemException {
        PublicKey pub = certificate.getPublicKey();
        String mismatch = "the private key does not match the certificate " + certificate.getSubjectX500Principal().getName()
                + " (the first certificate of the file, which must be the server's own, not its CA)";
        if (!sameFamily(key.getAlgorithm(), pub.getAlgorithm())) {
            throw new PemException(mismatch + ": the key is " + key.getAlgorithm() + ", the certificate's is "
                    + pub.getAlgorithm());
        }
        byte[] data = new byte[32];
        new SecureRandom().nextBytes(data);
        try {
            Signature signer = signature(key);
            if (signer == null) {
                return; // no signature to test this key type with: the handshake is its only judge
            }
            signer.initSign(key);
            signer.update(data);
            byte[] sig = signer.sign();
            Signature verifier = signature(key);
            verifier.initVerify(pub);
            verifier.update(data);
            if (!verifier.verify(sig)) {
                throw new PemException(mismatch);
            }
        } catch (GeneralSecurityException e) {
            throw new PemException(mismatch + ": " + e.getMessage());
        }
    }

    private static boolean sameFamily(String keyAlgorithm, String certAlgorithm) {
        return family(keyAlgorithm).equals(family(certAlgorithm));
    }

    private static String family(String algorithm) {
        String a = algorithm.toUpperCase(Locale.ROOT);
        return a.equals("ED25519") || a.equals("ED448") ? "EDDSA" : a.equals("RSASSA-PSS") ? "RSA" : a;
    }

    private static Signature signature(PrivateKey key) throws GeneralSecurityException {
        switch (family(key.getAlgorithm())) {
            case "RSA" -> {
                if (key.getAlgorithm().equalsIgnoreCase("RSASSA-PSS")) {
                    Signature s = Signature.getInstance("RSASSA-PSS");
                    s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
                    return s;
                }
                return Signature.getInstance("SHA256withRSA");
            }
            case "EC" -> {
                return Signature.getInstance("SHA256withECDSA");
            }
            case "EDDSA" -> {
                return Signature.getInstance("EdDSA");
            }
            case "DSA" -> {
                return Signature.getInstance("SHA256withDSA");
            }
            default -> {
                return null;
            }
        }
    }

    private static PrivateKey pkcs8(byte[] der) throws PemException {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException | RuntimeException e) {
                // not this algorithm: try the next
            }
        }
        throw new PemException("the private key cannot be parsed (not an RSA, EC, EdDSA or DSA key in PKCS#8 form)");
    }

    /** SEC1 {@code ECPrivateKey} wrapped as PKCS#8, with the curve of its {@code [0]} field or of {@code curve}. */
    private static PrivateKey sec1(byte[] der, byte[] curve) throws PemException {
        byte[] named = curve;
        try {
            Der seq = new Der(der, 0).enter(0x30);
            seq.skip(0x02);   // version
            seq.skip(0x04);   // privateKey
            if (seq.hasMore() && seq.peekTag() == 0xa0) {
                Der params = seq.enter(0xa0);
                named = params.element();
            }
        } catch (IllegalArgumentException e) {
            throw new PemException("the EC private key cannot be parsed: " + e.getMessage());
        }
        if (named == null || named.length == 0 || named[0] != 0x06) {
            throw new PemException("the EC private key names no curve: use a PKCS#8 key (openssl pkcs8 -topk8 -nocrypt)");
        }
        byte[] algorithm = der(0x30, concat(EC_PUBLIC_KEY_OID, named));
        return pkcs8(der(0x30, concat(new byte[] {0x02, 0x01, 0x00}, algorithm, der(0x04, der))));
    }

    private static void refuseLegacyEncryption(Block b) throws PemException {
        if (b.body().contains("Proc-Type:") || b.body().contains("DEK-Info:")) {
            throw new PemException("holds an encrypted private key: give scopegate an unencrypted one"
                    + " (openssl pkcs8 -topk8 -nocrypt -in IN -out OUT) on a file only it can read");
        }
    }

    private static List<Block> blocks(byte[] pem) throws PemException {
        String text = new String(pem, StandardCharsets.ISO_8859_1);
        List<Block> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            out.add(new Block(m.group(1), m.group(2)));
        }
        if (out.isEmpty()) {
            throw new PemException(text.isBlank() ? "is empty" : "is not a PEM file (no -----BEGIN ...----- block)");
        }
        return out;
    }

    private static byte[] decode(Block b, int n) throws PemException {
        try {
            return Base64.getDecoder().decode(b.body().replaceAll("\\s+", ""));
        } catch (IllegalArgumentException e) {
            throw new PemException("block #" + n + " (" + b.label() + ") is not valid base64");
        }
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A DER element: tag, definite length, content. */
    private static byte[] der(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(n >>> (8 * i));
            }
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    /** A cursor over the elements of one DER constructed value; throws IllegalArgumentException on bad input. */
    private static final class Der {
        private final byte[] bytes;
        private int pos;
        private final int end;

        Der(byte[] bytes, int pos) {
            this(bytes, pos, bytes.length);
        }

        private Der(byte[] bytes, int pos, int end) {
            this.bytes = bytes;
            this.pos = pos;
            this.end = end;
        }

        boolean hasMore() {
            return pos < end;
        }

        int peekTag() {
            return bytes[pos] & 0xff;
        }

        /** The content of the next element, which must have {@code tag}, as a cursor. */
        Der enter(int tag) {
            int[] tl = header(tag);
            Der inner = new Der(bytes, tl[0], tl[0] + tl[1]);
            pos = tl[0] + tl[1];
            return inner;
        }

        void skip(int tag) {
            int[] tl = header(tag);
            pos = tl[0] + tl[1];
        }

        /** The next element whole (tag, length and content). */
        byte[] element() {
            int start = pos;
            int[] tl = header(-1);
            pos = tl[0] + tl[1];
            return java.util.Arrays.copyOfRange(bytes, start, pos);
        }

        /** Reads tag and length at {@code pos}; returns {content start, content length}. */
        private int[] header(int tag) {
            if (pos + 2 > end) {
                throw new IllegalArgumentException("truncated");
            }
            int t = bytes[pos] & 0xff;
            if (tag >= 0 && t != tag) {
                throw new IllegalArgumentException("unexpected tag 0x" + Integer.toHexString(t));
            }
            int i = pos + 1;
            int len = bytes[i++] & 0xff;
            if (len >= 0x80) {
                int n = len & 0x7f;
                if (n == 0 || n > 3 || i + n > end) {
                    throw new IllegalArgumentException("bad length");
                }
                len = 0;
                for (int k = 0; k < n; k++) {
                    len = (len << 8) | (bytes[i++] & 0xff);
                }
            }
            if (i + len > end) {
                throw new IllegalArgumentException("truncated");
            }
            return new int[] {i, len};
        }
    }
}
