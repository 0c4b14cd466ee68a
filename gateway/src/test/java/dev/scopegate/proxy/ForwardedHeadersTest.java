package dev.scopegate.proxy;

import dev.scopegate.config.Cidr;
import dev.scopegate.proxy.upstream.Origin;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ForwardedHeadersTest {

    private static final ProxySettings.Target IDP = new ProxySettings.Target("/", Origin.of(URI.create("http://idp:9000")), false, false, 0);
    private static final ProxySettings.Target REWRITING = new ProxySettings.Target("/", Origin.of(URI.create("http://idp:9000")), true, false, 0);

    private static ProxySettings settings(List<Cidr> trusted, String proto, String host, boolean tls) {
        return new ProxySettings(IDP, List.of(), 0, trusted, proto, host, tls, false);
    }

    private static HttpHeaders headers(String... nv) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < nv.length; i += 2) {
            h.add(nv[i], nv[i + 1]);
        }
        return h;
    }

    @Test
    void anUntrustedClientsForwardedHeadersAreReplaced() throws Exception {
        HttpHeaders h = headers("Host", "gw", "X-Forwarded-For", "6.6.6.6", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil");
        ForwardedHeaders.apply(h, InetAddress.getByName("10.0.0.1"), "10.0.0.1", settings(List.of(), null, null, false), IDP);
        assertThat(h.getAll("X-Forwarded-For")).containsExactly("10.0.0.1");
        assertThat(h.get("X-Forwarded-Proto")).isEqualTo("http");
        assertThat(h.get("X-Forwarded-Host")).isEqualTo("gw");
        assertThat(h.get("Host")).isEqualTo("gw");
    }

    @Test
    void aTrustedProxysHeadersAreKeptAndForExtended() throws Exception {
        HttpHeaders h = headers("Host", "gw", "X-Forwarded-For", "1.1.1.1", "X-Forwarded-For", "2.2.2.2",
                "X-Forwarded-Proto", "https", "X-Forwarded-Host", "public.example");
        ForwardedHeaders.apply(h, InetAddress.getByName("10.0.0.1"), "10.0.0.1",
                settings(List.of(Cidr.parse("10.0.0.0/8")), null, null, false), IDP);
        assertThat(h.getAll("X-Forwarded-For")).containsExactly("1.1.1.1, 2.2.2.2, 10.0.0.1");
        assertThat(h.get("X-Forwarded-Proto")).isEqualTo("https");
        assertThat(h.get("X-Forwarded-Host")).isEqualTo("public.example");
    }

    @Test
    void theConfiguredPublicUrlAndTheListenerDecideProtoAndHost() throws Exception {
        HttpHeaders h = headers("Host", "gw");
        ForwardedHeaders.apply(h, null, "unknown", settings(List.of(Cidr.parse("0.0.0.0/0")), "https", "login.example", false), IDP);
        assertThat(h.get("X-Forwarded-For")).isEqualTo("unknown");
        assertThat(h.get("X-Forwarded-Proto")).isEqualTo("https");
        assertThat(h.get("X-Forwarded-Host")).isEqualTo("login.example");
        HttpHeaders tls = headers("Host", "gw");
        ForwardedHeaders.apply(tls, null, "unknown", settings(List.of(), null, null, true), IDP);
        assertThat(tls.get("X-Forwarded-Proto")).isEqualTo("https");
    }

    @Test
    void hostIsRewrittenWhenAskedOrMissing() {
        HttpHeaders h = headers("Host", "gw");
        ForwardedHeaders.apply(h, null, "unknown", settings(List.of(), null, null, false), REWRITING);
        assertThat(h.get("Host")).isEqualTo("idp:9000");
        assertThat(h.get("X-Forwarded-Host")).isEqualTo("gw");
        HttpHeaders none = headers();
        ForwardedHeaders.apply(none, null, "unknown", settings(List.of(), null, null, false), IDP);
        assertThat(none.get("Host")).isEqualTo("idp:9000");
        assertThat(none.get("X-Forwarded-Host")).isEqualTo("idp:9000");
    }
}
