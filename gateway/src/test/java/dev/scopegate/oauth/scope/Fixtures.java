package dev.scopegate.oauth.scope;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.config.ScopegateConfig.Family;
import dev.scopegate.config.ScopegateConfig.OnUnresolved;
import dev.scopegate.config.ScopegateConfig.Source;
import dev.scopegate.config.ScopegateConfig.Trigger;
import dev.scopegate.model.Registration;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Test builders for configs, requests and registrations. */
final class Fixtures {

    static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
    static final String CHATGPT_REDIRECT = "https://chatgpt.com/connector_platform_oauth_redirect";

    private Fixtures() {}

    static Cfg cfg() {
        return new Cfg();
    }

    static Req req() {
        return new Req();
    }

    static Registration reg(String clientId, String scope, String learned, String... redirectUris) {
        return new Registration(clientId, scope, List.of(redirectUris), List.of("authorization_code"), "n", null,
                learned, T0, T0);
    }

    /** A mutable builder of {@link ScopegateConfig.Scope} with the DESIGN §6 defaults. */
    static final class Cfg {
        Trigger trigger = Trigger.MISSING_OR_EMPTY;
        List<Source> sources = List.of(Source.CLIENT, Source.REGISTERED, Source.LEARNED, Source.DOCUMENT,
                Source.RESOURCE, Source.DEFAULT);
        String defaultScope = "";
        List<String> deny = List.of();
        List<String> addAlways = List.of();
        boolean onlySupported = true;
        boolean acceptCommas = true;
        OnUnresolved onUnresolved = OnUnresolved.FORWARD;
        ScopegateConfig.OfflineAccessPrompt offlineAccessPrompt = ScopegateConfig.OfflineAccessPrompt.CONSENT;
        boolean dryRun;
        Map<String, String> clients = Map.of();
        List<Family> families = List.of();

        Cfg trigger(Trigger t) { trigger = t; return this; }
        Cfg sources(Source... s) { sources = List.of(s); return this; }
        Cfg defaultScope(String s) { defaultScope = s; return this; }
        Cfg deny(String... d) { deny = List.of(d); return this; }
        Cfg addAlways(String... a) { addAlways = List.of(a); return this; }
        Cfg onlySupported(boolean b) { onlySupported = b; return this; }
        Cfg acceptCommas(boolean b) { acceptCommas = b; return this; }
        Cfg reject() { onUnresolved = OnUnresolved.REJECT; return this; }
        Cfg dryRun() { dryRun = true; return this; }
        Cfg offlineAccessPrompt(ScopegateConfig.OfflineAccessPrompt p) { offlineAccessPrompt = p; return this; }
        Cfg clients(Map<String, String> c) { clients = c; return this; }
        Cfg families(Family... f) { families = List.of(f); return this; }

        ScopegateConfig.Scope build() {
            return new ScopegateConfig.Scope(trigger, sources, defaultScope, deny, addAlways, onlySupported, acceptCommas,
                    onUnresolved, offlineAccessPrompt, dryRun, clients, families, new ScopegateConfig.Learn(true, true),
                    new ScopegateConfig.Document(false, 65536, Duration.ofSeconds(5)), false);
        }

        ScopeResolver resolver() {
            return new ScopeResolver(build());
        }
    }

    /** A mutable builder of {@link AuthorizationRequest}: a scopeless reconnect GET by default. */
    static final class Req {
        int clientIdCount = 1;
        String clientId = "c1";
        int scopeCount;
        String scope;
        String redirectUri = CHATGPT_REDIRECT;
        String resource;
        boolean requestObject;
        boolean requestUri;
        boolean get = true;
        boolean malformed;
        String state = "st-1";

        Req clientId(String id) { clientId = id; clientIdCount = id == null ? 0 : 1; return this; }
        Req clientIdCount(int n) { clientIdCount = n; return this; }
        Req scope(String s) { scope = s; scopeCount = 1; return this; }
        Req scopeCount(int n) { scopeCount = n; return this; }
        Req redirectUri(String r) { redirectUri = r; return this; }
        Req resource(String r) { resource = r; return this; }
        Req requestObject() { requestObject = true; return this; }
        Req requestUri() { requestUri = true; return this; }
        Req post() { get = false; return this; }
        Req malformed() { malformed = true; return this; }
        Req state(String s) { state = s; return this; }

        AuthorizationRequest build() {
            return new AuthorizationRequest(clientIdCount, clientId, scopeCount, scope, redirectUri, resource,
                    requestObject, requestUri, get, malformed, state);
        }
    }
}
