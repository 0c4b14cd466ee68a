package dev.scopegate.oauth.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.scopegate.config.ScopegateConfig.Augment;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class AugmenterTest {

    private static final URI UPSTREAM = URI.create("http://idp:8081");
    private static final URI PUBLIC = URI.create("https://my-domain/base");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static ServerMetadata md(String json) {
        return ServerMetadata.parse(json.getBytes(StandardCharsets.UTF_8), "application/json; charset=utf-8");
    }

    private static JsonNode served(Augmenter a, ServerMetadata md) throws Exception {
        return JSON.readTree(a.bodyFor(md).bytes());
    }

    @Test
    void offServesTheRawBytesAndContentType() {
        ServerMetadata md = md("{\"issuer\" : \"http://idp:8081\", \"token_endpoint\":\"http://idp:8081/t\"}");

        Augmenter.Body body = new Augmenter(new Augment(null, false), UPSTREAM, PUBLIC).bodyFor(md);

        assertThat(body.bytes()).isEqualTo(md.raw());
        assertThat(body.contentType()).isEqualTo("application/json; charset=utf-8");
    }

    @Test
    void addsScopesOnlyWhereMissingOrNull() throws Exception {
        Augmenter a = new Augmenter(new Augment(List.of("a", "b"), false), UPSTREAM, PUBLIC);

        assertThat(served(a, md("{\"issuer\":\"i\"}")).get("scopes_supported").toString()).isEqualTo("[\"a\",\"b\"]");
        assertThat(served(a, md("{\"issuer\":\"i\",\"scopes_supported\":null}")).get("scopes_supported").toString())
                .isEqualTo("[\"a\",\"b\"]");
        ServerMetadata listed = md("{\"issuer\":\"i\",\"scopes_supported\":[\"own\"]}");
        assertThat(a.bodyFor(listed).bytes()).isEqualTo(listed.raw());
        ServerMetadata none = md("{\"issuer\":\"i\"}");
        assertThat(new Augmenter(new Augment(List.of(), false), UPSTREAM, PUBLIC).bodyFor(none).bytes()).isEqualTo(none.raw());
    }

    @Test
    void addsPkceMethodsOnlyWhereMissingOrNullAndKeepsEveryOtherMember() throws Exception {
        Augmenter a = new Augmenter(new Augment(null, false, List.of("S256")), UPSTREAM, PUBLIC);

        JsonNode added = served(a, md("{\"issuer\":\"https://login.example/tenant/v2.0\",\"response_types_supported\":[\"code\"]}"));
        assertThat(added.toString()).isEqualTo("{\"issuer\":\"https://login.example/tenant/v2.0\","
                + "\"response_types_supported\":[\"code\"],\"code_challenge_methods_supported\":[\"S256\"]}");
        assertThat(served(a, md("{\"issuer\":\"i\",\"code_challenge_methods_supported\":null}"))
                .get("code_challenge_methods_supported").toString()).isEqualTo("[\"S256\"]");
        // a value the IdP sent is never changed, even one that leaves S256 out or is empty
        for (String present : List.of("[\"plain\"]", "[]", "[\"S256\",\"plain\"]")) {
            ServerMetadata listed = md("{\"issuer\":\"i\", \"code_challenge_methods_supported\": " + present + "}");
            assertThat(a.bodyFor(listed).bytes()).isEqualTo(listed.raw());
        }
        ServerMetadata none = md("{\"issuer\":\"i\"}");
        assertThat(new Augmenter(new Augment(null, false, List.of()), UPSTREAM, PUBLIC).bodyFor(none).bytes())
                .isEqualTo(none.raw());
        assertThat(new Augmenter(new Augment(null, false, null), UPSTREAM, PUBLIC).bodyFor(none).bytes())
                .isEqualTo(none.raw());
    }

    @Test
    void rewritesOnlyTheExactUpstreamOriginAndNeverTheIssuer() throws Exception {
        Augmenter a = new Augmenter(new Augment(null, true), UPSTREAM, PUBLIC);
        ServerMetadata md = md("""
                {"issuer":"http://idp:8081",
                 "authorization_endpoint":"HTTP://IDP:8081/oauth/authorize",
                 "token_endpoint":"http://idp:8081",
                 "jwks_uri":"http://idp:8081?x#y",
                 "other_port":"http://idp:9999/x",
                 "other_host":"http://idp.example:8081/x",
                 "prefix_trap":"http://idp:80810/x",
                 "not_a_url":"idp:8081",
                 "list":["http://idp:8081/a", 3],
                 "n":1}""");

        JsonNode json = served(a, md);

        assertThat(json.get("issuer").textValue()).isEqualTo("http://idp:8081");
        assertThat(json.get("authorization_endpoint").textValue()).isEqualTo("https://my-domain/oauth/authorize");
        assertThat(json.get("token_endpoint").textValue()).isEqualTo("https://my-domain");
        assertThat(json.get("jwks_uri").textValue()).isEqualTo("https://my-domain?x#y");
        assertThat(json.get("other_port").textValue()).isEqualTo("http://idp:9999/x");
        assertThat(json.get("other_host").textValue()).isEqualTo("http://idp.example:8081/x");
        assertThat(json.get("prefix_trap").textValue()).isEqualTo("http://idp:80810/x");
        assertThat(json.get("not_a_url").textValue()).isEqualTo("idp:8081");
        assertThat(json.get("list").get(0).textValue()).isEqualTo("https://my-domain/a");
        assertThat(json.get("n").intValue()).isEqualTo(1);
        assertThat(a.bodyFor(md).contentType()).isEqualTo("application/json");
    }

    @Test
    void originRewriteNeedsAPublicBaseUrl() {
        ServerMetadata md = md("{\"issuer\":\"i\",\"token_endpoint\":\"http://idp:8081/t\"}");

        assertThat(new Augmenter(new Augment(null, true), UPSTREAM, null).bodyFor(md).bytes()).isEqualTo(md.raw());
    }

    @Test
    void defaultPortsCompareEqual() {
        Augmenter a = new Augmenter(new Augment(null, true), URI.create("https://idp"), URI.create("https://pub:8443"));
        ServerMetadata md = md("{\"issuer\":\"i\",\"token_endpoint\":\"https://idp:443/t\"}");

        assertThat(new String(a.bodyFor(md).bytes(), StandardCharsets.UTF_8)).contains("\"https://pub:8443/t\"");
    }
}
