package dev.scopegate.oauth.document;

import dev.scopegate.config.Cidr;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;

/**
 * Which addresses scopegate may fetch a client-supplied URL from (the SSRF guard of Client ID
 * Metadata Documents). Pure and thread-safe.
 *
 * <p>Not public: loopback, private (RFC 1918, RFC 4193), carrier-grade NAT, link-local, multicast,
 * unspecified, broadcast, reserved and documentation ranges. An IPv6 address that embeds an IPv4
 * address (IPv4-mapped {@code ::ffff:a.b.c.d}, IPv4-compatible {@code ::a.b.c.d}, NAT64
 * {@code 64:ff9b::/96}, 6to4 {@code 2002::/16}) is judged by the IPv4 address it embeds, because
 * that is where a dual-stack socket or translator would really connect.
 */
public final class AddressGuard {

    private static final List<Cidr> NOT_PUBLIC_V4 = cidrs(
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
            "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
            "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4");

    private static final List<Cidr> NOT_PUBLIC_V6 = cidrs(
            "::/128", "::1/128", "100::/64", "2001::/32", "2001:db8::/32", "64:ff9b:1::/48",
            "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8");

    /** Cloud instance-metadata endpoints (AWS/GCP/Azure/OpenStack IPv4, AWS IPv6). */
    private static final List<Cidr> CLOUD_METADATA = cidrs("169.254.169.254/32", "fd00:ec2::254/128");

    private AddressGuard() {
    }

    /**
     * True when a document may be fetched from {@code address}. {@code allowPrivate} (tests only)
     * lets every address through except cloud metadata endpoints, which are never fetched.
     */
    public static boolean permitted(InetAddress address, boolean allowPrivate) {
        byte[] a = address.getAddress();
        byte[] v4 = embeddedV4(a);
        if (isIn(CLOUD_METADATA, a) || (v4 != null && isIn(CLOUD_METADATA, v4))) {
            return false;
        }
        return allowPrivate || isPublic(address);
    }

    /** True when {@code address} is a globally routable unicast address (see the class comment). */
    public static boolean isPublic(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length == 4) {
            return !isIn(NOT_PUBLIC_V4, a);
        }
        byte[] v4 = embeddedV4(a);
        if (v4 != null) {
            return !isIn(NOT_PUBLIC_V4, v4);
        }
        return !isIn(NOT_PUBLIC_V6, a);
    }

    /** The IPv4 address an IPv6 address stands for, or null; an IPv4 address stands for itself. */
    private static byte[] embeddedV4(byte[] a) {
        if (a.length == 4) {
            return a;
        }
        if (zero(a, 0, 10) && (a[10] & 0xff) == 0xff && (a[11] & 0xff) == 0xff) {
            return slice(a, 12);                        // ::ffff:a.b.c.d
        }
        if (zero(a, 0, 12)) {
            return slice(a, 12);                        // ::a.b.c.d, also :: and ::1 (then 0.0.0.x)
        }
        if ((a[0] & 0xff) == 0x00 && (a[1] & 0xff) == 0x64 && (a[2] & 0xff) == 0xff && (a[3] & 0xff) == 0x9b
                && zero(a, 4, 12)) {
            return slice(a, 12);                        // 64:ff9b::a.b.c.d
        }
        if ((a[0] & 0xff) == 0x20 && (a[1] & 0xff) == 0x02) {
            return slice(a, 2);                         // 2002:aabb:ccdd::/48
        }
        return null;
    }

    private static boolean zero(byte[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static byte[] slice(byte[] a, int from) {
        byte[] v4 = new byte[4];
        System.arraycopy(a, from, v4, 0, 4);
        return v4;
    }

    /** Byte-wise prefix match, so that no {@link InetAddress} conversion can change the family. */
    private static boolean isIn(List<Cidr> ranges, byte[] address) {
        for (Cidr c : ranges) {
            byte[] n = c.network();
            if (n.length == address.length && prefixMatches(n, c.prefixBits(), address)) {
                return true;
            }
        }
        return false;
    }

    private static boolean prefixMatches(byte[] network, int bits, byte[] a) {
        for (int i = 0; i < bits / 8; i++) {
            if (a[i] != network[i]) {
                return false;
            }
        }
        int rest = bits % 8;
        return rest == 0 || ((a[bits / 8] ^ network[bits / 8]) & (0xff << (8 - rest)) & 0xff) == 0;
    }

    private static List<Cidr> cidrs(String... texts) {
        return Arrays.stream(texts).map(Cidr::parse).toList();
    }
}
