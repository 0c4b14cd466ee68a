package dev.scopegate.oauth.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link IssuerPaths}: which discovery paths name an issuer scopegate may fetch for, and which issuer it must be. */
class IssuerPathsTest {

    @Test
    void theThreeDiscoveryFormsNameTheirIssuerPath() {
        assertThat(IssuerPaths.named("/.well-known/oauth-authorization-server/realms/b")).isEqualTo("/realms/b");
        assertThat(IssuerPaths.named("/.well-known/openid-configuration/realms/b")).isEqualTo("/realms/b");
        assertThat(IssuerPaths.named("/realms/b/.well-known/openid-configuration")).isEqualTo("/realms/b");
        // the root documents name no path; other well-known documents and look-alikes name none
        assertThat(IssuerPaths.named("/.well-known/oauth-authorization-server")).isNull();
        assertThat(IssuerPaths.named("/.well-known/openid-configuration")).isNull();
        assertThat(IssuerPaths.named("/.well-known/oauth-authorization-serverX/realms/b")).isNull();
        assertThat(IssuerPaths.named("/.well-known/oauth-protected-resource/mcp")).isNull();
        assertThat(IssuerPaths.named("/realms/b/.well-known/oauth-authorization-server")).isNull();
        assertThat(IssuerPaths.named("realms/b/.well-known/openid-configuration")).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/realms/b", "/a", "/tenant-1/v2", "/realms/caf%C3%A9", "/x_y~z.1", "/a/b/c/d/e/f/g/h"})
    void wellFormedPaths(String path) {
        assertThat(IssuerPaths.wellFormed(path)).as(path).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/", "realms/b", "/realms/", "//realms", "/realms//b", "/realms/./b", "/realms/..",
            "/..", "/.", "/realms/.well-known", "/realms/.WELL-KNOWN/x", "/realms/b?x", "/realms/b#x", "/realms/b c",
            "/realms/%2e%2e", "/realms/%2F", "/realms/%2f", "/realms/%5C", "/realms/%41", "/realms/%00", "/realms/%7f",
            "/realms/%", "/realms/%4", "/realms/%zz", "/a/b/c/d/e/f/g/h/i", "/realms/b;x", "/realms/b@x", "/realms/b:x",
            "/realms/\u00e9", "/realms\\b"})
    void malformedPathsAreNeverFetched(String path) {
        assertThat(IssuerPaths.wellFormed(path)).as(path).isFalse();
    }

    @Test
    void lengthIsBounded() {
        String ok = "/" + "a".repeat(IssuerPaths.MAX_LENGTH - 1);
        assertThat(IssuerPaths.wellFormed(ok)).isTrue();
        assertThat(IssuerPaths.wellFormed(ok + "a")).isFalse();
    }

    @Property
    void aWellFormedPathHasNoEmptyOrDotSegmentAndOnlyUriPathCharacters(@ForAll @StringLength(max = 40) String raw) {
        String path = "/" + raw;
        if (IssuerPaths.wellFormed(path)) {
            assertThat(path).doesNotContain("//").doesNotEndWith("/");
            for (String segment : path.substring(1).split("/", -1)) {
                assertThat(segment).isNotIn("", ".", "..");
            }
            assertThat(path.chars().allMatch(c -> c == '/' || c == '%' || IssuerPaths.unreserved((char) c))).isTrue();
            assertThat(URI.create("https://gw.example" + path).getRawPath()).isEqualTo(path);
        }
    }

    @Test
    void theExpectedIssuerIsThePublicOriginAndThePath_originsAsClientsNameThem() {
        assertThat(IssuerPaths.expectedIssuer("https://gw.example", "/realms/b")).isEqualTo("https://gw.example/realms/b");
        assertThat(IssuerPaths.originOf(URI.create("https://gw.example/realms/a"))).isEqualTo("https://gw.example");
        assertThat(IssuerPaths.originOf(URI.create("https://gw.example:443/"))).isEqualTo("https://gw.example");
        assertThat(IssuerPaths.originOf(URI.create("HTTP://gw.example:80"))).isEqualTo("http://gw.example");
        assertThat(IssuerPaths.originOf(URI.create("http://gw.example:8443/x"))).isEqualTo("http://gw.example:8443");
        assertThat(IssuerPaths.originOf(URI.create("https://u:p@gw.example/x"))).isEqualTo("https://gw.example");
        assertThat(IssuerPaths.originOf("http://127.0.0.1:9000/realms/a")).isEqualTo("http://127.0.0.1:9000");
        assertThat(IssuerPaths.originOf("not a url")).isNull();
        assertThat(IssuerPaths.originOf((URI) null)).isNull();
        assertThat(IssuerPaths.originOf(URI.create("/relative"))).isNull();
    }
}
