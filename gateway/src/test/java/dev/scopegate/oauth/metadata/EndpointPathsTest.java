package dev.scopegate.oauth.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scopegate.config.ScopegateConfig.Endpoints;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class EndpointPathsTest {

    private static final ServerMetadata MD = ServerMetadata.parse(("{\"issuer\":\"https://idp\","
            + "\"authorization_endpoint\":\"https://idp/oauth/authorize\",\"token_endpoint\":\"https://idp/oauth/token\","
            + "\"registration_endpoint\":\"https://idp/oauth/register\"}").getBytes(StandardCharsets.UTF_8));

    @Test
    void learnedFromTheMetadata() {
        assertThat(EndpointPaths.of(MD, new Endpoints(null, null, null, null)))
                .isEqualTo(new EndpointPaths("/oauth/authorize", null, "/oauth/register", "/oauth/token"));
    }

    @Test
    void overridesWinAsPathsOrUrls() {
        EndpointPaths paths = EndpointPaths.of(MD, new Endpoints("/auth", "https://public/oauth/par", " ", null));

        assertThat(paths).isEqualTo(new EndpointPaths("/auth", "/oauth/par", "/oauth/register", "/oauth/token"));
    }

    @Test
    void withoutMetadataOnlyOverridesAreKnown() {
        assertThat(EndpointPaths.of(null, null)).isEqualTo(EndpointPaths.NONE);
        assertThat(EndpointPaths.of(null, new Endpoints(null, null, null, "/token")))
                .isEqualTo(new EndpointPaths(null, null, null, "/token"));
    }
}
