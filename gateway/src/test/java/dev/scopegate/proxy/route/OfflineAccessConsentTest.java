package dev.scopegate.proxy.route;

import dev.scopegate.oauth.AuthorizationParams;
import dev.scopegate.oauth.ParamCache;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** How the decision's {@code prompt} reaches the parameters (which scopes bring one: PromptPolicyTest). */
class OfflineAccessConsentTest {

    private static String withScope(String query, String scope, String prompt) {
        return AuthorizationRewrite.withScope(query, 0,
                AuthorizationParams.read(query, 0, query.length(), true, false, null), scope, prompt,
                new ParamCache(16));
    }

    @Test
    void theDecisionsPromptIsAppendedWhenThereIsNoPrompt() {
        assertThat(withScope("client_id=a&state=s", "read offline_access", "consent"))
                .isEqualTo("client_id=a&state=s&scope=read%20offline_access&prompt=consent");
    }

    @Test
    void anExistingPromptIsLeftAlone() {
        assertThat(withScope("client_id=a&prompt=login", "offline_access", "consent"))
                .isEqualTo("client_id=a&prompt=login&scope=offline_access");
        assertThat(withScope("prompt=none&client_id=a&scope=", "offline_access", "consent"))
                .isEqualTo("prompt=none&client_id=a&scope=offline_access");
    }

    @Test
    void noPromptWithoutOne() {
        assertThat(withScope("client_id=a", "read offline_access", null))
                .isEqualTo("client_id=a&scope=read%20offline_access");
        assertThat(withScope("client_id=a&scope=", "offline_access", null))
                .isEqualTo("client_id=a&scope=offline_access");
    }
}
