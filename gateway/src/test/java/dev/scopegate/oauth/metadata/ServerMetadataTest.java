package dev.scopegate.oauth.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ServerMetadataTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void parsesTheMembersScopegateUses() {
        byte[] json = utf8("""
                {"issuer":"https://my-domain/oauth",
                 "authorization_endpoint":"https://my-domain/oauth/authorize",
                 "token_endpoint":"https://my-domain/oauth/token",
                 "registration_endpoint":"https://my-domain/oauth/register",
                 "pushed_authorization_request_endpoint":"https://my-domain/oauth/par",
                 "scopes_supported":["worker:read","time-off:write"],
                 "authorization_response_iss_parameter_supported":true,
                 "extra":{"nested":[1,2]}}""");

        ServerMetadata md = ServerMetadata.parse(json, "application/json; charset=utf-8");

        assertThat(md.issuer()).isEqualTo("https://my-domain/oauth");
        assertThat(md.authorizationEndpoint()).isEqualTo("https://my-domain/oauth/authorize");
        assertThat(md.tokenEndpoint()).isEqualTo("https://my-domain/oauth/token");
        assertThat(md.registrationEndpoint()).isEqualTo("https://my-domain/oauth/register");
        assertThat(md.parEndpoint()).isEqualTo("https://my-domain/oauth/par");
        assertThat(md.authorizationPath()).isEqualTo("/oauth/authorize");
        assertThat(md.tokenPath()).isEqualTo("/oauth/token");
        assertThat(md.registrationPath()).isEqualTo("/oauth/register");
        assertThat(md.parPath()).isEqualTo("/oauth/par");
        assertThat(md.scopesSupported()).containsExactly("worker:read", "time-off:write");
        assertThat(md.issParameterSupported()).isTrue();
        assertThat(md.contentType()).isEqualTo("application/json; charset=utf-8");
        assertThat(md.raw()).isEqualTo(json);
    }

    @Test
    void keepsItsOwnCopyOfTheBytes() {
        byte[] json = utf8("{\"issuer\":\"https://idp\"}");
        ServerMetadata md = ServerMetadata.parse(json);

        json[0] = ' ';
        md.raw()[1] = 'X';

        assertThat(md.raw()).isEqualTo(utf8("{\"issuer\":\"https://idp\"}"));
        assertThat(md.contentType()).isEqualTo("application/json");
    }

    @Test
    void optionalMembersMayBeAbsentOrOfTheWrongType() {
        ServerMetadata md = ServerMetadata.parse(utf8("""
                {"issuer":"https://idp","token_endpoint":42,"scopes_supported":["a",7,null,"b"],
                 "authorization_response_iss_parameter_supported":"true"}"""), null);

        assertThat(md.tokenEndpoint()).isNull();
        assertThat(md.tokenPath()).isNull();
        assertThat(md.authorizationEndpoint()).isNull();
        assertThat(md.scopesSupported()).containsExactly("a", "b");
        assertThat(md.issParameterSupported()).isFalse();
        assertThat(ServerMetadata.parse(utf8("{\"issuer\":\"i\",\"scopes_supported\":\"a b\"}")).scopesSupported()).isNull();
    }

    @Test
    void rejectsWhatIsNotAnIssuerDocument() {
        assertThatThrownBy(() -> ServerMetadata.parse(utf8("<html></html>")))
                .isInstanceOf(InvalidMetadataException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> ServerMetadata.parse(utf8("{\"issuer\":\"i\"} trailing")))
                .isInstanceOf(InvalidMetadataException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> ServerMetadata.parse(new byte[0]))
                .isInstanceOf(InvalidMetadataException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> ServerMetadata.parse(utf8("[{\"issuer\":\"i\"}]")))
                .isInstanceOf(InvalidMetadataException.class).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> ServerMetadata.parse(utf8("{\"token_endpoint\":\"https://idp/t\"}")))
                .isInstanceOf(InvalidMetadataException.class).hasMessageContaining("issuer");
        assertThatThrownBy(() -> ServerMetadata.parse(utf8("{\"issuer\":\"\"}")))
                .isInstanceOf(InvalidMetadataException.class).hasMessageContaining("issuer");
        assertThatThrownBy(() -> ServerMetadata.parse(utf8("{\"issuer\":[\"x\"]}")))
                .isInstanceOf(InvalidMetadataException.class).hasMessageContaining("issuer");
    }

    @Test
    void pathOfTakesTheRawPath() {
        assertThat(ServerMetadata.pathOf("https://idp:8443/oauth/authorize?x=1#f")).isEqualTo("/oauth/authorize");
        assertThat(ServerMetadata.pathOf("https://idp/a%2Fb/c")).isEqualTo("/a%2Fb/c");
        assertThat(ServerMetadata.pathOf("https://idp")).isEqualTo("/");
        assertThat(ServerMetadata.pathOf("/relative/token")).isEqualTo("/relative/token");
        assertThat(ServerMetadata.pathOf("mailto:x@y")).isNull();
        assertThat(ServerMetadata.pathOf("https://idp/bad path")).isNull();
        assertThat(ServerMetadata.pathOf(null)).isNull();
    }
}
