package dev.scopegate.oauth.scope;

import dev.scopegate.config.ScopegateConfig.Family;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class ClientFamiliesTest {

    final ClientFamilies families = new ClientFamilies(List.of(
            new Family("chatgpt", List.of("chatgpt.com", "*.chatgpt.com"), "a"),
            new Family("claude", List.of("Claude.AI."), null),
            new Family("local", List.of("[::1]", "localhost"), null),
            new Family("shadowed", List.of("chatgpt.com"), null)));

    @Test
    void exactAndSubdomainRulesCaseInsensitive() {
        assertThat(families.familyOf("https://chatgpt.com/connector_platform_oauth_redirect")).isEqualTo("chatgpt");
        assertThat(families.familyOf("https://CHATGPT.COM/cb")).isEqualTo("chatgpt");
        assertThat(families.familyOf("https://a.b.chatgpt.com/cb")).isEqualTo("chatgpt");
        assertThat(families.familyOf("https://claude.ai/api/mcp/auth_callback")).isEqualTo("claude");
        assertThat(families.familyOf("https://claude.ai./cb")).as("trailing dot").isEqualTo("claude");
    }

    @Test
    void suffixNeedsALabelBoundary() {
        assertThat(families.familyOf("https://evilchatgpt.com/cb")).isEqualTo("other");
        assertThat(families.familyOf("https://chatgpt.com.evil.example/cb")).isEqualTo("other");
        assertThat(families.familyOf("https://www.claude.ai/cb")).as("exact rule only").isEqualTo("other");
    }

    @Test
    void portsUserinfoQueriesAndLiterals() {
        assertThat(families.familyOf("https://chatgpt.com:443/cb")).isEqualTo("chatgpt");
        assertThat(families.familyOf("https://user:pw@chatgpt.com/cb")).isEqualTo("chatgpt");
        assertThat(families.familyOf("https://chatgpt.com?x=1")).isEqualTo("chatgpt");
        assertThat(families.familyOf("https://chatgpt.com#f")).isEqualTo("chatgpt");
        assertThat(families.familyOf("https://chatgpt.com")).isEqualTo("chatgpt");
        assertThat(families.familyOf("http://[::1]:8080/cb")).isEqualTo("local");
        assertThat(families.familyOf("http://localhost:3000/cb")).isEqualTo("local");
        assertThat(families.familyOf("com.example.app://chatgpt.com/cb")).as("any scheme").isEqualTo("chatgpt");
    }

    @Test
    void tricksAndGarbageAreOther() {
        for (String s : Arrays.asList(null, "", "chatgpt.com", "//chatgpt.com/cb", "https:chatgpt.com",
                "https://", "https:///cb", "https://chatgpt.com:44x/cb", "https://evil.example\\@chatgpt.com/",
                "https://chatgpt.com@evil.example/", "https://chat%67pt.com/", "https://chatgpt.com\u0000/",
                "https://[::1/", "https://[]/", "https://[zz]/", "https://@/", "https://:443/", "1https://chatgpt.com/",
                "https://bad host/", "https://.", "%%%")) {
            assertThat(families.familyOf(s)).as(String.valueOf(s)).isEqualTo(ClientFamilies.OTHER);
        }
        assertThat(families.familyOf("https://chatgpt.com:/cb")).as("empty port is allowed by RFC 3986")
                .isEqualTo("chatgpt");
    }

    @Test
    void firstFamilyWins() {
        assertThat(families.familyOf("https://chatgpt.com/")).isEqualTo("chatgpt");
    }

    @Test
    void noFamiliesMeansOther() {
        assertThat(new ClientFamilies(List.of()).familyOf("https://chatgpt.com/")).isEqualTo("other");
    }

    @Test
    void neverThrowsOnRandomInput() {
        Random random = new Random(42);
        String alphabet = "htps:/@[]%.?#\\:-_aZ09 \u00e9\u0000";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder b = new StringBuilder(random.nextBoolean() ? "https://" : "");
            for (int k = random.nextInt(24); k > 0; k--) {
                b.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            assertThat(families.familyOf(b.toString())).isNotNull();
        }
    }

    @Test
    void repeatedAndInterleavedUrisAreAnsweredByTheirOwnContent() {
        String[] hosts = {"chatgpt.com", "claude.ai", "evil.example", "x.chatgpt.com", "localhost"};
        String[] expected = {"chatgpt", "claude", "other", "chatgpt", "local"};
        String[] uris = new String[500];
        for (int i = 0; i < uris.length; i++) {
            uris[i] = "https://" + hosts[i % hosts.length] + "/cb/" + i;
        }
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < uris.length; i++) {
                assertThat(families.familyOf(uris[i])).as(uris[i]).isEqualTo(expected[i % hosts.length]);
                // an equal string that is another instance gets the same answer
                assertThat(families.familyOf(new String(uris[i]))).isEqualTo(expected[i % hosts.length]);
            }
        }
        assertThat(families.familyOf(null)).isEqualTo("other");
    }
}
