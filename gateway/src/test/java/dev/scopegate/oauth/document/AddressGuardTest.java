package dev.scopegate.oauth.document;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class AddressGuardTest {

    @Example
    void publicAddressesArePermitted() throws Exception {
        for (String a : new String[] {"93.184.216.34", "8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1",
                "2606:2800:220:1:248:1893:25c8:1946", "2001:4860:4860::8888"}) {
            assertThat(AddressGuard.permitted(InetAddress.getByName(a), false)).as(a).isTrue();
        }
    }

    @Example
    void specialPurposeAddressesAreNot() throws Exception {
        for (String a : new String[] {"0.0.0.0", "0.1.2.3", "10.255.0.1", "100.127.255.255", "127.0.0.1", "127.255.0.9",
                "169.254.0.1", "169.254.169.254", "172.16.0.0", "172.31.255.255", "192.0.0.8", "192.0.2.1",
                "192.168.255.1", "198.18.0.1", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255",
                "::", "::1", "fc00::1", "fdff:ffff::1", "fe80::1", "febf::1", "fec0::1", "ff02::1", "2001:db8::1",
                "2001:0:4136:e378:8000:63bf:3fff:fdd2", "100::1", "64:ff9b:1::1"}) {
            assertThat(AddressGuard.permitted(InetAddress.getByName(a), false)).as(a).isFalse();
        }
    }

    @Example
    void allowPrivateStillRefusesCloudMetadata() throws Exception {
        assertThat(AddressGuard.permitted(InetAddress.getByName("127.0.0.1"), true)).isTrue();
        assertThat(AddressGuard.permitted(InetAddress.getByName("fd12::1"), true)).isTrue();
        assertThat(AddressGuard.permitted(InetAddress.getByName("169.254.169.254"), true)).isFalse();
        assertThat(AddressGuard.permitted(InetAddress.getByName("fd00:ec2::254"), true)).isFalse();
        assertThat(AddressGuard.permitted(v6(mapped(new byte[] {(byte) 169, (byte) 254, (byte) 169, (byte) 254})), true))
                .isFalse();
    }

    @Property
    void anIpv6FormEmbeddingAnIpv4AddressIsJudgedLikeIt(@ForAll byte a, @ForAll byte b, @ForAll byte c, @ForAll byte d)
            throws Exception {
        byte[] v4 = {a, b, c, d};
        boolean expected = AddressGuard.permitted(InetAddress.getByAddress(v4), false);

        assertThat(AddressGuard.permitted(v6(mapped(v4)), false)).isEqualTo(expected);
        assertThat(AddressGuard.permitted(v6(prefixed(new byte[12], v4)), false)).isEqualTo(expected);
        byte[] nat64 = new byte[12];
        nat64[1] = 0x64;
        nat64[2] = (byte) 0xff;
        nat64[3] = (byte) 0x9b;
        assertThat(AddressGuard.permitted(v6(prefixed(nat64, v4)), false)).isEqualTo(expected);
        byte[] sixToFour = new byte[16];
        sixToFour[0] = 0x20;
        sixToFour[1] = 0x02;
        System.arraycopy(v4, 0, sixToFour, 2, 4);
        sixToFour[15] = 1;
        assertThat(AddressGuard.permitted(v6(sixToFour), false)).isEqualTo(expected);
    }

    @Property
    void privateRangesAreRefusedWholesale(@ForAll @IntRange(min = 0, max = 0xFFFFFF) int host,
                                          @ForAll @IntRange(min = 0, max = 0xFFFF) int host16,
                                          @ForAll @IntRange(min = 0, max = 0xFFFFF) int host20) throws Exception {
        assertThat(AddressGuard.permitted(v4(10 << 24 | host), false)).isFalse();
        assertThat(AddressGuard.permitted(v4(127 << 24 | host), false)).isFalse();
        assertThat(AddressGuard.permitted(v4(0xC0A8 << 16 | host16), false)).isFalse();
        assertThat(AddressGuard.permitted(v4(0xA9FE << 16 | host16), false)).isFalse();
        assertThat(AddressGuard.permitted(v4(0xAC1 << 20 | host20), false)).isFalse();
    }

    private static InetAddress v4(int bits) throws UnknownHostException {
        return InetAddress.getByAddress(new byte[] {(byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits});
    }

    private static byte[] mapped(byte[] v4) {
        byte[] p = new byte[12];
        p[10] = (byte) 0xff;
        p[11] = (byte) 0xff;
        return prefixed(p, v4);
    }

    private static byte[] prefixed(byte[] prefix12, byte[] v4) {
        byte[] a = new byte[16];
        System.arraycopy(prefix12, 0, a, 0, 12);
        System.arraycopy(v4, 0, a, 12, 4);
        return a;
    }

    /** Keeps the IPv6 form: {@code InetAddress.getByAddress} would turn {@code ::ffff:a.b.c.d} into IPv4. */
    private static InetAddress v6(byte[] sixteen) throws UnknownHostException {
        return Inet6Address.getByAddress(null, sixteen, -1);
    }
}
