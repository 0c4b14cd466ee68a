package dev.scopegate.oauth.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scopegate.oauth.metadata.WellKnown.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class WellKnownTest {

    @Test
    void normalizesIssuerPaths() {
        assertThat(WellKnown.normalizeIssuerPath(null)).isEmpty();
        assertThat(WellKnown.normalizeIssuerPath("/")).isEmpty();
        assertThat(WellKnown.normalizeIssuerPath("tenant/")).isEqualTo("/tenant");
        assertThat(WellKnown.normalizeIssuerPath("/a/b//")).isEqualTo("/a/b");
        assertThat(WellKnown.issuerPathOf("https://idp/realms/x")).isEqualTo("/realms/x");
        assertThat(WellKnown.issuerPathOf("not a uri")).isEmpty();
    }

    @Test
    void fetchLocationsFollowRfc8414AndOidcDiscovery() {
        assertThat(WellKnown.fetchPaths(Kind.OAUTH, "")).containsExactly("/.well-known/oauth-authorization-server");
        assertThat(WellKnown.fetchPaths(Kind.OAUTH, "/t")).containsExactly("/.well-known/oauth-authorization-server/t");
        assertThat(WellKnown.fetchPaths(Kind.OIDC, "")).containsExactly("/.well-known/openid-configuration");
        assertThat(WellKnown.fetchPaths(Kind.OIDC, "/t"))
                .containsExactly("/t/.well-known/openid-configuration", "/.well-known/openid-configuration/t");
    }

    @Test
    void servedPathsCoverEveryFormClientsUse() {
        assertThat(WellKnown.servedPaths(List.of("", "/t")))
                .containsEntry("/.well-known/oauth-authorization-server", Kind.OAUTH)
                .containsEntry("/.well-known/oauth-authorization-server/t", Kind.OAUTH)
                .containsEntry("/.well-known/openid-configuration", Kind.OIDC)
                .containsEntry("/.well-known/openid-configuration/t", Kind.OIDC)
                .containsEntry("/t/.well-known/openid-configuration", Kind.OIDC)
                .hasSize(5);
    }
}
