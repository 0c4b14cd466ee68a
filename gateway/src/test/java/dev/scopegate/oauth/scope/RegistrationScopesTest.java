package dev.scopegate.oauth.scope;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.config.ScopegateConfig.Family;
import dev.scopegate.config.ScopegateConfig.Resource;
import dev.scopegate.config.ScopegateConfig.Source;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegistrationScopesTest {

    static final List<String> SUPPORTED = List.of("files:read", "files:write", "openid");
    static final List<String> CHATGPT = List.of("https://other.example/cb", "https://chatgpt.com/cb");

    static ScopegateConfig.Scope scope(List<Source> sources, String def, List<String> deny) {
        ScopegateConfig.Scope d = ConfigLoader.defaults().scope();
        return new ScopegateConfig.Scope(d.trigger(), sources, def, deny, List.of(), true, true, d.onUnresolved(),
                d.offlineAccessPrompt(), false, Map.of("x", "openid"),
                List.of(new Family("chatgpt", List.of("chatgpt.com"), "files:read,files:write")), d.learn(), d.document(),
                true);
    }

    static final List<Resource> ONE = List.of(new Resource(URI.create("https://mcp/mcp"), List.of("files:write")));

    @Test
    void followsTheChainInOrderOverTheSourcesThatNeedNoClient() {
        List<Source> all = List.of(Source.REGISTERED, Source.LEARNED, Source.DOCUMENT, Source.CLIENT, Source.RESOURCE,
                Source.SERVER, Source.DEFAULT);
        RegistrationScopes r = new RegistrationScopes(scope(all, "openid", List.of()), ONE);

        assertThat(r.resolve(CHATGPT, SUPPORTED)).isEqualTo(new RegistrationScopes.Filled("files:read files:write", Source.CLIENT));
        assertThat(r.resolve(List.of("https://other.example/cb"), SUPPORTED))
                .isEqualTo(new RegistrationScopes.Filled("files:write", Source.RESOURCE));
    }

    @Test
    void resourceOnlyWithOneConfiguredResourceThenServerThenDefault() {
        List<Source> chain = List.of(Source.RESOURCE, Source.SERVER, Source.DEFAULT);
        List<Resource> two = List.of(ONE.get(0), new Resource(URI.create("https://mcp/two"), List.of("openid")));

        assertThat(new RegistrationScopes(scope(chain, "openid", List.of()), two).resolve(List.of(), SUPPORTED))
                .isEqualTo(new RegistrationScopes.Filled("files:read files:write openid", Source.SERVER));
        assertThat(new RegistrationScopes(scope(List.of(Source.RESOURCE, Source.DEFAULT), "openid", List.of()), two)
                .resolve(List.of(), SUPPORTED)).isEqualTo(new RegistrationScopes.Filled("openid", Source.DEFAULT));
    }

    @Test
    void thePolicyCutsAndAnEmptyResultFallsThrough() {
        RegistrationScopes r = new RegistrationScopes(scope(List.of(Source.CLIENT, Source.DEFAULT), "openid admin",
                List.of("files:*")), List.of());

        assertThat(r.resolve(CHATGPT, SUPPORTED)).isEqualTo(new RegistrationScopes.Filled("openid", Source.DEFAULT));
        assertThat(new RegistrationScopes(scope(List.of(Source.CLIENT, Source.DEFAULT), "", List.of()), List.of())
                .resolve(List.of(), SUPPORTED)).isNull();
    }
}
