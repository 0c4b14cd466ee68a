package dev.scopegate.oauth;

import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.scopegate.model.Registration;
import dev.scopegate.store.embedded.SqliteRegistrationStore;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class RegistrationDocumentsTest {

    private static final Instant NOW = Instant.parse("2025-11-25T10:00:00Z");

    private static final String RESPONSE = """
            {
              "client_id": "811703c8-c50a-4a49-a119-0035430610cd",
              "client_secret": "s3cr3t-value-never-stored",
              "client_secret_expires_at": 0,
              "client_id_issued_at": 1732530000,
              "registration_access_token": "rat-value-never-stored",
              "registration_client_uri": "https://idp/oauth/register/811703c8",
              "redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"],
              "grant_types": ["authorization_code", "refresh_token"],
              "token_endpoint_auth_method": "client_secret_post",
              "client_name": "ChatGPT",
              "scope": "worker:read time-off:read"
            }""";

    @TempDir
    Path dir;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void keepsTheRegistrationMembersOfAGoodResponse() {
        Registration r = RegistrationDocuments.fromDcrResponse(bytes(RESPONSE), null, NOW).orElseThrow();
        assertThat(r).isEqualTo(new Registration("811703c8-c50a-4a49-a119-0035430610cd", "worker:read time-off:read",
                List.of("https://chatgpt.com/connector_platform_oauth_redirect"),
                List.of("authorization_code", "refresh_token"), "ChatGPT", "https://idp/oauth/register/811703c8",
                null, NOW, NOW));
    }

    @Test
    void responseScopeWinsOverRequestScope() {
        String request = "{\"scope\":\"other\",\"redirect_uris\":[\"https://x/cb\"]}";
        assertThat(RegistrationDocuments.fromDcrResponse(bytes(RESPONSE), bytes(request), NOW))
                .map(Registration::scope).contains("worker:read time-off:read");
    }

    @Test
    void responseWithoutScopeFallsBackToTheRequestScope() {
        String response = "{\"client_id\":\"c1\",\"redirect_uris\":[\"https://x/cb\"]}";
        String request = "{\"scope\":\"people:read contracts:read\",\"redirect_uris\":[\"https://x/cb\"]}";
        assertThat(RegistrationDocuments.fromDcrResponse(bytes(response), bytes(request), NOW))
                .map(Registration::scope).contains("people:read contracts:read");
        assertThat(RegistrationDocuments.fromDcrResponse(bytes("{\"client_id\":\"c1\",\"scope\":\"  \"}"), bytes(request), NOW))
                .as("blank response scope counts as absent").map(Registration::scope).contains("people:read contracts:read");
        assertThat(RegistrationDocuments.fromDcrResponse(bytes(response), null, NOW))
                .hasValueSatisfying(r -> assertThat(r.scope()).isNull());
        assertThat(RegistrationDocuments.fromDcrResponse(bytes(response), bytes("not json"), NOW))
                .as("unreadable request: no fallback, registration still kept")
                .hasValueSatisfying(r -> assertThat(r.scope()).isNull());
        assertThat(RegistrationDocuments.fromDcrResponse(bytes(response), bytes("{\"scope\":7}"), NOW))
                .hasValueSatisfying(r -> assertThat(r.scope()).isNull());
    }

    @Test
    void scopeAsAnArrayOfStringsIsJoined() {
        assertThat(RegistrationDocuments.fromDcrResponse(bytes("{\"client_id\":\"c1\",\"scope\":[\"a\",\"b\"]}"), null, NOW))
                .map(Registration::scope).contains("a b");
    }

    @Test
    void nullMembersCountAsAbsent() {
        String response = "{\"client_id\":\"c1\",\"scope\":null,\"redirect_uris\":null,\"client_name\":null}";
        assertThat(RegistrationDocuments.fromDcrResponse(bytes(response), null, NOW))
                .contains(new Registration("c1", null, List.of(), List.of(), null, null, null, NOW, NOW));
    }

    @Test
    void secretsNeverReachTheDatabaseFile() throws Exception {
        Registration r = RegistrationDocuments.fromDcrResponse(bytes(RESPONSE), null, NOW).orElseThrow();
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir)) {
            store.put(r).join();
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store.file());
                 Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT doc FROM registrations")) {
                assertThat(rs.next()).isTrue();
                String doc = rs.getString(1);
                assertThat(doc).contains("811703c8-c50a-4a49-a119-0035430610cd", "worker:read time-off:read")
                        .doesNotContain("client_secret", "registration_access_token",
                                "s3cr3t-value-never-stored", "rat-value-never-stored", "token_endpoint_auth_method");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", " ", "not json", "null", "[]", "[{\"client_id\":\"c1\"}]", "\"c1\"", "42",
            "{}", "{\"client_id\":\"\"}", "{\"client_id\":\"  \"}", "{\"client_id\":42}", "{\"client_id\":null}",
            "{\"client_id\":[\"c1\"]}", "{\"client_id\":{\"x\":1}}",
            "{\"client_id\":\"c1\",\"redirect_uris\":\"https://x/cb\"}",
            "{\"client_id\":\"c1\",\"redirect_uris\":[1]}",
            "{\"client_id\":\"c1\",\"grant_types\":{}}",
            "{\"client_id\":\"c1\",\"scope\":7}",
            "{\"client_id\":\"c1\",\"scope\":[\"a\",1]}",
            "{\"client_id\":\"c1\",\"client_name\":false}",
            "{\"client_id\":\"c1\",\"registration_client_uri\":[]}",
            "{\"client_id\":\"c1\"} trailing",
            "{\"client_id\":\"c1\"",
            "{\"client_id\":\"c1\",\"client_id\":\"c2\"}",
    })
    void badInputYieldsEmpty(String input) {
        assertThat(RegistrationDocuments.fromDcrResponse(bytes(input), bytes("{\"scope\":\"x\"}"), NOW)).isEmpty();
    }

    @Test
    void nullOrNonObjectNodesYieldEmpty() throws Exception {
        JsonMapper mapper = new JsonMapper();
        assertThat(RegistrationDocuments.fromDcrResponse(null, null, NOW)).isEmpty();
        assertThat(RegistrationDocuments.fromClientMetadata(null, NOW)).isEmpty();
        assertThat(RegistrationDocuments.fromClientMetadata(mapper.readTree("[1]"), NOW)).isEmpty();
        assertThat(RegistrationDocuments.fromClientMetadata(mapper.readTree("{\"client_id\":\"c\"}"), NOW))
                .map(Registration::clientId).contains("c");
    }

    @Test
    void invalidUtf8YieldsEmpty() {
        byte[] broken = {'{', '"', 'c', 'l', 'i', 'e', 'n', 't', '_', 'i', 'd', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        assertThat(RegistrationDocuments.fromDcrResponse(broken, null, NOW)).isEmpty();
    }

    @Property(tries = 300)
    void neverThrowsOnArbitraryBytes(@ForAll byte[] response, @ForAll byte[] request) {
        Optional<Registration> r = RegistrationDocuments.fromDcrResponse(response, request, NOW);
        assertThat(r).isNotNull();
    }

    @Property(tries = 300)
    void neverThrowsOnArbitraryText(@ForAll @StringLength(max = 80) String junk) {
        String doc = "{\"client_id\":\"c\",\"scope\":" + junk + "}";
        assertThat(RegistrationDocuments.fromDcrResponse(bytes(doc), bytes(junk), NOW)).isNotNull();
        assertThat(RegistrationDocuments.fromDcrResponse(bytes(junk), null, NOW)).isNotNull();
    }
}
