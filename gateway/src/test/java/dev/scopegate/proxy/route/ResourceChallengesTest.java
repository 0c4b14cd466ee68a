package dev.scopegate.proxy.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scopegate.config.ScopegateConfig.Resource;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which resource's challenge completion a request on a {@code routes} entry gets. */
class ResourceChallengesTest {

    static Resource resource(String url, boolean challenge, String... scopes) {
        return new Resource(URI.create(url), List.of(scopes), challenge);
    }

    static ChallengeTap tap(Plan plan) {
        assertThat(plan).isInstanceOf(Plan.Forward.class);
        return (ChallengeTap) ((Plan.Forward) plan).tap();
    }

    @Test
    void routesNoChallengeResourceConcernsGetNothing() {
        List<Resource> resources = List.of(resource("https://gw/mcp", false, "a"), resource("https://gw/other", true, "b"));
        assertThat(ResourceChallenges.forRoute("/mcp", resources, null)).isNull();
        assertThat(ResourceChallenges.forRoute("/mcp", List.of(), null)).isNull();
        assertThat(ResourceChallenges.forRoute("/mc", List.of(resource("https://gw/mcp", true)), null)).isNull();
        assertThat(ResourceChallenges.forRoute("/", List.of(resource("https://gw/mcp", true)), null)).isNotNull();
        assertThat(ResourceChallenges.forRoute("/m", List.of(resource("https://gw/mcp", true)), null)).isNull();
    }

    @Test
    void theLongestResourcePathUnderWhichTheRequestLiesWins() {
        ResourceChallenges c = ResourceChallenges.forRoute("/api", List.of(
                resource("https://gw/api/mcp", true, "files:read", "files:write"),
                resource("https://gw/api/mcp/admin", true, "admin")), null);
        ChallengeTap mcp = tap(c.planFor("/api/mcp"));
        assertThat(mcp.resourceMetadata()).isEqualTo("https://gw/.well-known/oauth-protected-resource/api/mcp");
        assertThat(mcp.scope()).isEqualTo("files:read files:write");
        assertThat(tap(c.planFor("/api/mcp/x"))).isSameAs(mcp); // one plan per resource: nothing per request
        assertThat(tap(c.planFor("/api/mcp/admin/y")).scope()).isEqualTo("admin");
        assertThat(c.planFor("/api/mcpx")).isSameAs(Plan.FORWARD);
        assertThat(c.planFor("/api")).isSameAs(Plan.FORWARD);
    }

    @Test
    void aResourceAboveTheRouteCoversIt() {
        ResourceChallenges c = ResourceChallenges.forRoute("/mcp", List.of(resource("https://gw", true)), null);
        ChallengeTap root = tap(c.planFor("/mcp/stream"));
        assertThat(root.resourceMetadata()).isEqualTo("https://gw/.well-known/oauth-protected-resource");
        assertThat(root.scope()).isNull(); // no scopes_supported: no scope parameter
    }

    @Test
    void onTheSamePathThePublicOriginWins() {
        List<Resource> resources = List.of(resource("https://internal:8443/mcp", true, "x"),
                resource("https://gw.example/mcp", true, "y"));
        assertThat(tap(ResourceChallenges.forRoute("/mcp", resources, URI.create("https://gw.example")).planFor("/mcp"))
                .scope()).isEqualTo("y");
        assertThat(tap(ResourceChallenges.forRoute("/mcp", resources, null).planFor("/mcp")).scope()).isEqualTo("x");
    }
}
