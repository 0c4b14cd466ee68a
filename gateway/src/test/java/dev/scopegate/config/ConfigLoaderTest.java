package dev.scopegate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scopegate.config.ScopegateConfig.Admin;
import dev.scopegate.config.ScopegateConfig.Augment;
import dev.scopegate.config.ScopegateConfig.Cache;
import dev.scopegate.config.ScopegateConfig.Compat;
import dev.scopegate.config.ScopegateConfig.Document;
import dev.scopegate.config.ScopegateConfig.Endpoints;
import dev.scopegate.config.ScopegateConfig.Family;
import dev.scopegate.config.ScopegateConfig.Health;
import dev.scopegate.config.ScopegateConfig.Learn;
import dev.scopegate.config.ScopegateConfig.Limits;
import dev.scopegate.config.ScopegateConfig.Listen;
import dev.scopegate.config.ScopegateConfig.Logging;
import dev.scopegate.config.ScopegateConfig.Metadata;
import dev.scopegate.config.ScopegateConfig.OfflineAccessPrompt;
import dev.scopegate.config.ScopegateConfig.OnUnresolved;
import dev.scopegate.config.ScopegateConfig.Redis;
import dev.scopegate.config.ScopegateConfig.Registrations;
import dev.scopegate.config.ScopegateConfig.Resource;
import dev.scopegate.config.ScopegateConfig.ResourceParameter;
import dev.scopegate.config.ScopegateConfig.Route;
import dev.scopegate.config.ScopegateConfig.Scope;
import dev.scopegate.config.ScopegateConfig.Source;
import dev.scopegate.config.ScopegateConfig.Store;
import dev.scopegate.config.ScopegateConfig.StoreType;
import dev.scopegate.config.ScopegateConfig.Tls;
import dev.scopegate.config.ScopegateConfig.Trigger;
import dev.scopegate.config.ScopegateConfig.UnknownClients;
import dev.scopegate.config.ScopegateConfig.Upstream;
import dev.scopegate.config.ScopegateConfig.UpstreamTls;
import dev.scopegate.tls.TestPki;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {

    private static final Path EXAMPLE = Path.of("../config/scopegate.yaml");

    @TempDir
    Path dir;

    private static ScopegateConfig parse(String yaml) throws ConfigException {
        return parse(yaml, Map.of());
    }

    private static ScopegateConfig parse(String yaml, Map<String, String> env) throws ConfigException {
        return new ConfigLoader(env::get).parse(yaml, "t.yaml");
    }

    private static List<String> errors(String yaml) {
        return errors(yaml, Map.of());
    }

    private static List<String> errors(String yaml, Map<String, String> env) {
        try {
            parse(yaml, env);
        } catch (ConfigException e) {
            return e.errors();
        }
        throw new AssertionError("expected errors for:\n" + yaml);
    }

    // ---- defaults --------------------------------------------------------------------------------

    @Test
    void emptyFileYieldsExactDefaults() throws Exception {
        ScopegateConfig c = parse("");

        assertThat(c.listen()).isEqualTo(new Listen("0.0.0.0", 8080, new Tls(null, null), Duration.ofSeconds(10)));
        assertThat(c.listen().tls().enabled()).isFalse();
        assertThat(c.admin()).isEqualTo(new Admin("127.0.0.1", 9090, "", null));
        assertThat(c.publicBaseUrl()).isNull();
        assertThat(c.trustedProxies()).isEmpty();
        assertThat(c.upstream()).isEqualTo(new Upstream(URI.create("http://127.0.0.1:8081"), Duration.ofSeconds(2),
                Duration.ofSeconds(30), Duration.ofSeconds(60), 512, Duration.ofSeconds(60), false, UpstreamTls.NONE));
        assertThat(c.routes()).isEmpty();
        assertThat(c.metadata()).isEqualTo(new Metadata(Duration.ofMinutes(5), new Augment(null, false), ScopegateConfig.Issuers.OFF));
        assertThat(c.endpoints()).isEqualTo(new Endpoints(null, null, null, null));
        assertThat(c.scope()).isEqualTo(new Scope(Trigger.MISSING_OR_EMPTY,
                List.of(Source.CLIENT, Source.REGISTERED, Source.LEARNED, Source.DOCUMENT, Source.RESOURCE, Source.DEFAULT),
                "", List.of(), List.of(), true, true, OnUnresolved.FORWARD, OfflineAccessPrompt.CONSENT, false, Map.of(), List.of(),
                new Learn(true, true), new Document(false, 65536, Duration.ofSeconds(5)), false));
        assertThat(c.resources()).isEmpty();
        assertThat(c.limits()).isEqualTo(new Limits(16384, 8192, 65536, 262144));
        assertThat(c.store()).isEqualTo(new Store(StoreType.EMBEDDED, "data", new Redis("redis://127.0.0.1:6379", "scopegate:", null, null)));
        assertThat(c.cache()).isEqualTo(new Cache(new Registrations(1_000_000L, Duration.ofDays(30)),
                new UnknownClients(10_000L)));
        assertThat(c.logging()).isEqualTo(new Logging(true, false));
        assertThat(c.health()).isEqualTo(new Health("0.0.0.0", 0, false));
        assertThat(c.health().listenerEnabled()).isFalse();
        assertThat(ConfigLoader.defaults()).isEqualTo(c);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "# only a comment\n",
        "---\n",
        "listen:\nadmin: ~\nscope:\n  document:\nroutes:\nstore: {}\n",
        "\uFEFFlisten: {}\n",
    })
    void emptyOrNullSectionsYieldDefaults(String yaml) throws Exception {
        assertThat(parse(yaml)).isEqualTo(ConfigLoader.defaults());
    }

    @Test
    void aPartialSectionKeepsTheOtherDefaults() throws Exception {
        ScopegateConfig c = parse("listen:\n  port: 1234\nscope:\n  learn: {token: false}\n");

        assertThat(c.listen()).isEqualTo(new Listen("0.0.0.0", 1234, new Tls(null, null), Duration.ofSeconds(10)));
        assertThat(c.scope().learn()).isEqualTo(new Learn(true, false));
        assertThat(c.scope().document()).isEqualTo(ConfigLoader.defaults().scope().document());
    }

    // ---- every key -------------------------------------------------------------------------------

    @Test
    void everyKeyIsParsed() throws Exception {
        TestPki pki = TestPki.create("ConfigLoaderTest CA");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        pki.server("listener").write(cert, key);
        Path ca = Files.writeString(dir.resolve("ca.pem"), pki.pem());
        Path clientCert = dir.resolve("client.pem");
        Path clientKey = dir.resolve("client-key.pem");
        pki.client("scopegate").write(clientCert, clientKey);
        Path redisPassword = Files.writeString(dir.resolve("redis-password"), "redis-pw\n");
        String yaml = """
                listen:
                  host: 127.0.0.2
                  port: 8443
                  tls: {cert: "%s", key: "%s"}
                  drain-timeout: 0s
                admin: {host: 0.0.0.0, port: 0, token: s3cret}
                public-base-url: https://my-domain
                trusted-proxies: [10.0.0.0/8, "::1"]
                upstream:
                  url: https://idp.internal:9443/base
                  connect-timeout: 500ms
                  response-timeout: 1h
                  read-timeout: 2m
                  max-connections: 7
                  idle-timeout: 90
                  rewrite-host: true
                  tls: {ca: "%s", cert: "%s", key: "%s"}
                routes:
                  - prefix: /mcp
                    url: http://127.0.0.1:3000
                    read-timeout: 0
                  - {prefix: /files, url: "http://files:80", rewrite-host: true}
                metadata:
                  refresh: 1m
                  augment: {scopes-supported: [openid, "worker:read"], rewrite-origin: true,
                            code-challenge-methods-supported: [S256]}
                endpoints:
                  authorization: /oauth/authorize
                  par: /oauth/par
                  registration: /oauth/register
                  token: /oauth/token
                scope:
                  trigger: missing
                  sources: [default, server, client]
                  default: "openid profile"
                  deny: [offline_access, "admin:*"]
                  only-supported: false
                  accept-commas: false
                  on-unresolved: reject
                  offline-access-prompt: none
                  dry-run: true
                  clients:
                    811703c8-c50a-4a49-a119-0035430610cd: "worker:read time-off:read"
                    "https://app.example/client.json": openid
                  families:
                    - name: chatgpt.com
                      redirect-hosts: [ChatGPT.com]
                      scope: "worker:read"
                    - name: claude_ai
                      redirect-hosts: [claude.ai, "*.claude.ai"]
                  learn: {authorize: false, token: false}
                  document: {allow-private: true, max-bytes: 2048, timeout: 250ms}
                  fill-registration: true
                resources:
                  - resource: https://my-domain/mcp
                    scopes-supported: ["worker:read"]
                  - resource: https://my-domain/other
                limits:
                  max-header-bytes: 2000
                  max-initial-line-bytes: 3000
                  max-form-bytes: 4000
                  max-capture-bytes: 5000
                store:
                  type: redis
                  path: /var/lib/scopegate
                  redis: {uri: "rediss://redis:6380", key-prefix: "sg:", password-file: "%s"}
                cache:
                  registrations: {max-size: 10, expire-after-access: 2h}
                  unknown-clients: {max-size: 20}
                logging: {access: false, json: true}
                health: {host: 127.0.0.3, port: 8081, store-required: true}
                compat: {resource-parameter: audience}
                """.formatted(cert, key, ca, clientCert, clientKey, redisPassword);

        ScopegateConfig c = parse(yaml);

        ScopegateConfig expected = new ScopegateConfig(
                new Listen("127.0.0.2", 8443, new Tls(cert.toString(), key.toString()), Duration.ZERO),
                new Admin("0.0.0.0", 0, "s3cret", null),
                URI.create("https://my-domain"),
                List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("::1")),
                new Upstream(URI.create("https://idp.internal:9443/base"), Duration.ofMillis(500), Duration.ofHours(1),
                        Duration.ofMinutes(2), 7, Duration.ofSeconds(90), true,
                        new UpstreamTls(ca.toString(), clientCert.toString(), clientKey.toString())),
                List.of(new Route("/mcp", URI.create("http://127.0.0.1:3000"), false, Duration.ZERO),
                        new Route("/files", URI.create("http://files:80"), true, null)),
                new Metadata(Duration.ofMinutes(1), new Augment(List.of("openid", "worker:read"), true, List.of("S256")), ScopegateConfig.Issuers.OFF),
                new Compat(ResourceParameter.AUDIENCE, false),
                new Endpoints("/oauth/authorize", "/oauth/par", "/oauth/register", "/oauth/token"),
                new Scope(Trigger.MISSING, List.of(Source.DEFAULT, Source.SERVER, Source.CLIENT), "openid profile",
                        List.of("offline_access", "admin:*"), List.of(), false, false, OnUnresolved.REJECT, OfflineAccessPrompt.NONE, true,
                        Map.of("811703c8-c50a-4a49-a119-0035430610cd", "worker:read time-off:read",
                                "https://app.example/client.json", "openid"),
                        List.of(new Family("chatgpt.com", List.of("chatgpt.com"), "worker:read"),
                                new Family("claude_ai", List.of("claude.ai", "*.claude.ai"), null)),
                        new Learn(false, false), new Document(true, 2048, Duration.ofMillis(250)), true),
                List.of(new Resource(URI.create("https://my-domain/mcp"), List.of("worker:read")),
                        new Resource(URI.create("https://my-domain/other"), List.of())),
                new Limits(2000, 3000, 4000, 5000),
                new Store(StoreType.REDIS, "/var/lib/scopegate", new Redis("rediss://redis:6380", "sg:", redisPassword.toString(),
                        "redis-pw")),
                new Cache(new Registrations(10, Duration.ofHours(2)), new UnknownClients(20)),
                new Logging(false, true),
                new Health("127.0.0.3", 8081, true));
        assertThat(c).isEqualTo(expected);
        assertThat(c.listen().tls().enabled()).isTrue();
    }

    @ParameterizedTest
    @CsvSource({
        "500ms, PT0.5S",
        "2s, PT2S",
        "5m, PT5M",
        "1h, PT1H",
        "30d, PT720H",
        "7, PT7S",
        "'\"7\"', PT7S",
        "'\"15 m\"', PT15M",
    })
    void durationsAcceptUnitsAndBareSeconds(String written, String iso) throws Exception {
        assertThat(parse("metadata: {refresh: " + written + "}").metadata().refresh()).isEqualTo(Duration.parse(iso));
    }

    @Test
    void readTimeoutsAllowZeroAndARouteInheritsTheUpstreamOne() throws Exception {
        ScopegateConfig c = parse("""
                upstream: {read-timeout: 0}
                routes:
                  - {prefix: /sse, url: "http://a", read-timeout: 10m}
                  - {prefix: /b, url: "http://b"}
                """);

        assertThat(c.upstream().readTimeout()).isZero();
        assertThat(c.routes()).extracting(Route::readTimeout).containsExactly(Duration.ofMinutes(10), null);
        assertThat(parse("upstream: {read-timeout: 1500ms}").upstream().readTimeout()).isEqualTo(Duration.ofMillis(1500));
    }

    @Test
    void readTimeoutsApplyOnReloadWithoutARestart() throws Exception {
        ScopegateConfig running = parse("routes: [{prefix: /sse, url: \"http://a\"}]");
        ScopegateConfig edited = parse("upstream: {read-timeout: 5s}\nroutes: [{prefix: /sse, url: \"http://a\", read-timeout: 0}]");

        List<String> changed = ConfigChanges.diff(running, edited);
        assertThat(changed).containsExactly("upstream.read-timeout", "routes");
        assertThat(changed).noneMatch(ConfigChanges::restartOnly);
        assertThat(ConfigChanges.pinRestartOnly(running, edited)).isEqualTo(edited);
    }

    @Test
    void yamlIntegerFormsAndQuotedNumbersAreAccepted() throws Exception {
        ScopegateConfig c = parse("listen: {port: \"8081\"}\ncache: {registrations: {max-size: 1_000}}\n");

        assertThat(c.listen().port()).isEqualTo(8081);
        assertThat(c.cache().registrations().maxSize()).isEqualTo(1000);
    }

    @Test
    void unknownClientsCacheHasItsOwnBoundNextToRegistrations() throws Exception {
        assertThat(parse("cache:\n  unknown-clients:\n    max-size: 250_000\n").cache()).isEqualTo(
                new Cache(new Registrations(1_000_000L, Duration.ofDays(30)), new UnknownClients(250_000L)));
        assertThat(parse("cache: {registrations: {max-size: 5}}").cache().unknownClients())
                .isEqualTo(new UnknownClients(10_000L));
        assertThat(parse("cache: {unknown-clients: {max-size: 0}}").cache().unknownClients().maxSize()).isZero();

        assertThat(errors("cache:\n  unknown-clients:\n    max_size: 5\n")).singleElement().asString()
                .startsWith("t.yaml:3:5: cache.unknown-clients.max_size: unknown key; did you mean 'max-size'?");
        assertThat(errors("cache:\n  unknown-clients:\n    max-size: -5\n")).singleElement().asString()
                .isEqualTo("t.yaml:3:15: cache.unknown-clients.max-size: must be at least 0, got -5");
        assertThat(errors("cache:\n  unknown_clients: {max-size: 5}\n")).singleElement().asString()
                .startsWith("t.yaml:2:3: cache.unknown_clients: unknown key; did you mean 'unknown-clients'?");
        assertThat(ConfigChanges.restartOnly("cache.unknown-clients.max-size")).isTrue();
    }

    @Test
    void portsMayRepeatWhereTheyCannotClash() throws Exception {
        assertThat(parse("listen: {port: 0}\nadmin: {port: 0}").admin().port()).isZero();
        assertThat(parse("listen: {host: 10.0.0.1, port: 9000}\nadmin: {port: 9000}").admin().port()).isEqualTo(9000);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "listen: {port: 8000}\\nhealth: {port: 8000}                              | 2:16: health.port: the health listener cannot share port 8000 with the proxy listener (listen.port)",
        "admin: {port: 9000}\\nhealth: {port: 9000}                               | 2:16: health.port: the health listener cannot share port 9000 with the admin listener (admin.port)",
        "health: {host: 127.0.0.1, port: 9090}                                    | 1:33: health.port: the health listener cannot share port 9090 with the admin listener (admin.port)",
        "listen: {host: 10.0.0.1, port: 8000}\\nhealth: {host: 10.0.0.1, port: 8000} | 2:32: health.port: the health listener cannot share port 8000 with the proxy listener (listen.port)",
    })
    void theHealthListenerCannotShareAPort(String yaml, String expected) {
        assertThat(errors(yaml.replace("\\n", "\n"))).containsExactly("t.yaml:" + expected);
    }

    @Test
    void theHealthListenerMayUseAPortWhereItCannotClash() throws Exception {
        assertThat(parse("health: {host: 10.0.0.2, port: 9090}\nadmin: {host: 10.0.0.1}").health().port()).isEqualTo(9090);
        assertThat(parse("health: {port: 8081}").health()).isEqualTo(new Health("0.0.0.0", 8081, false));
    }

    @Test
    void storeRedisAlsoAcceptsSentinelUris() throws Exception {
        assertThat(parse("store: {redis: {uri: \"redis-sentinel://a:26379,b:26379/mymaster\"}}").store().redis().uri())
                .isEqualTo("redis-sentinel://a:26379,b:26379/mymaster");
    }

    @Test
    void emptyNullableValuesMeanUnset() throws Exception {
        ScopegateConfig c = parse("""
                public-base-url: ""
                listen: {tls: {cert: "", key: ""}}
                endpoints: {token: ""}
                """);

        assertThat(c.publicBaseUrl()).isNull();
        assertThat(c.listen().tls()).isEqualTo(new Tls(null, null));
        assertThat(c.endpoints().token()).isNull();
    }

    // ---- interpolation ---------------------------------------------------------------------------

    @Test
    void interpolatesVariablesAndDefaults() throws Exception {
        Map<String, String> env = Map.of("TOKEN", "tok", "PORT", "18080", "DRY", "true", "REFRESH", "90s", "HOST", "idp");
        ScopegateConfig c = parse("""
                admin: {token: "${TOKEN}", host: "${ADMIN_HOST:127.0.0.9}"}
                listen: {port: "${PORT:1}"}
                scope: {dry-run: "${DRY}", default: "${NONE:}", deny: ["${A:x}-${B:y}"]}
                metadata:
                  refresh: ${REFRESH}
                upstream: {url: "http://${HOST}:8081"}
                """, env);

        assertThat(c.admin().token()).isEqualTo("tok");
        assertThat(c.admin().host()).isEqualTo("127.0.0.9");
        assertThat(c.listen().port()).isEqualTo(18080);
        assertThat(c.scope().dryRun()).isTrue();
        assertThat(c.scope().defaultScope()).isEmpty();
        assertThat(c.scope().deny()).containsExactly("x-y");
        assertThat(c.metadata().refresh()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.upstream().url()).isEqualTo(URI.create("http://idp:8081"));
    }

    @Test
    void theShellFormWithAnEmptyDefaultYieldsEmptyNotADash() throws Exception {
        // Issue 15: `${SCOPEGATE_ADMIN_TOKEN:-}` (shell and compose syntax) once yielded the token "-".
        assertThat(parse("admin: {token: \"${SCOPEGATE_ADMIN_TOKEN:-}\"}").admin().token()).isEmpty();
        assertThat(parse("admin: {token: \"${SCOPEGATE_ADMIN_TOKEN:-}\"}", Map.of("SCOPEGATE_ADMIN_TOKEN", ""))
                .admin().token()).isEmpty();
        assertThat(parse("admin: {token: \"${SCOPEGATE_ADMIN_TOKEN:-}\"}", Map.of("SCOPEGATE_ADMIN_TOKEN", "t0k"))
                .admin().token()).isEqualTo("t0k");
    }

    /** Each form against an unset, an empty and a set variable, as {@code sh} and Compose read them. */
    @ParameterizedTest(name = "{0} with V={1} -> {2}")
    @CsvSource(nullValues = "UNSET", value = {
        "'${V:-d}', UNSET, d",
        "'${V:-d}', '', d",
        "'${V:-d}', x, x",
        "'${V-d}', UNSET, d",
        "'${V-d}', '', ''",
        "'${V-d}', x, x",
        "'${V:d}', UNSET, d",
        "'${V:d}', '', ''",
        "'${V:d}', x, x",
        "'${V:-}', UNSET, ''",
        "'${V-}', UNSET, ''",
        "'${V:}', UNSET, ''",
        "'${V:--d}', UNSET, -d",
        "'${V--d}', '', ''",
        "'${V:-a:b-c d}', '', a:b-c d",
        "'<${V:-d}|${V-e}>', '', <d|>",
    })
    void defaultFormsHaveTheShellMeaning(String written, String value, String expected) throws Exception {
        Map<String, String> env = value == null ? Map.of() : Map.of("V", value);
        assertThat(parse("scope: {default: \"" + written + "\"}", env).scope().defaultScope()).isEqualTo(expected);
    }

    @Test
    void anEnvironmentValueCannotChangeTheYamlStructure() throws Exception {
        String hostile = "x\"\nlisten: {port: 1}\nbogus: [";
        ScopegateConfig c = parse("scope: {default: \"${S}\"}\n", Map.of("S", hostile));

        assertThat(c.scope().defaultScope()).isEqualTo(hostile);
        assertThat(c.listen().port()).isEqualTo(8080);
    }

    @Test
    void doubledDollarIsALiteral() throws Exception {
        assertThat(parse("scope: {default: \"$${NOT_A_VAR} and $5\"}").scope().defaultScope())
                .isEqualTo("${NOT_A_VAR} and $5");
    }

    @Test
    void anUnsetVariableWithoutDefaultIsAnErrorNamingKeyLineAndVariable() {
        List<String> errors = errors("admin:\n  port: 9090\n  token: \"${SCOPEGATE_ADMIN_TOKEN}\"\n");

        assertThat(errors).singleElement().asString()
                .startsWith("t.yaml:3:10: admin.token: ")
                .contains("SCOPEGATE_ADMIN_TOKEN is not set");
    }

    @Test
    void aMalformedReferenceIsAnError() {
        assertThat(errors("scope: {default: \"${oops\"}")).singleElement().asString()
                .contains("scope.default").contains("unclosed");
        assertThat(errors("scope: {default: \"${1X}\"}")).singleElement().asString()
                .contains("scope.default").contains("not a valid variable reference");
        assertThat(errors("scope: {default: \"${X?err}\"}")).singleElement().asString()
                .contains("scope.default").contains("${NAME:-default}");
    }

    @Test
    void keysAreNotInterpolated() {
        assertThat(errors("listen: {\"${K:port}\": 1}")).singleElement().asString().contains("unknown key");
    }

    // ---- errors ----------------------------------------------------------------------------------

    @Test
    void unknownTopLevelKeyNamesKeyAndLine() {
        assertThat(errors("listen: {}\nlistne: {}\n")).containsExactly(
                "t.yaml:2:1: listne: unknown key; did you mean 'listen'? (expected one of: listen, admin,"
                        + " public-base-url, trusted-proxies, upstream, routes, metadata, compat, endpoints, scope, resources,"
                        + " limits, store, cache, logging, health)");
    }

    @Test
    void unknownNestedKeyNamesPathAndLine() {
        List<String> errors = errors("""
                upstream:
                  url: http://idp:8081
                  connect_timeout: 2s
                scope:
                  document: {max-bytes: 2048, maxbytes: 1}
                routes:
                  - {prefix: /a, url: "http://a", extra: 1}
                """);

        assertThat(errors).hasSize(3);
        assertThat(errors.get(0)).startsWith("t.yaml:3:3: upstream.connect_timeout: unknown key; did you mean 'connect-timeout'?");
        assertThat(errors.get(1)).startsWith("t.yaml:5:31: scope.document.maxbytes: unknown key");
        assertThat(errors.get(2)).startsWith("t.yaml:7:35: routes[0].extra: unknown key");
    }

    @Test
    void aBadDurationNamesKeyAndLine() {
        assertThat(errors("upstream:\n  connect-timeout: 2 minutes\n")).singleElement().asString()
                .startsWith("t.yaml:2:20: upstream.connect-timeout: '2 minutes' is not a duration");
    }

    @Test
    void allErrorsAreCollectedInFileOrder() {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> parse("""
                logging: {json: maybe}
                listen:
                  port: 70000
                upstream:
                  url: ftp://idp
                  response-timeout: 0s
                routes:
                  - {prefix: /a, url: "http://a"}
                  - {prefix: b, url: "http://b"}
                bogus: true
                """));

        assertThat(e.errors()).hasSize(6);
        assertThat(e.errors()).extracting(s -> s.split(": ", 3)[0] + ": " + s.split(": ", 3)[1])
                .containsExactly(
                        "t.yaml:1:17: logging.json",
                        "t.yaml:3:9: listen.port",
                        "t.yaml:5:8: upstream.url",
                        "t.yaml:6:21: upstream.response-timeout",
                        "t.yaml:9:14: routes[1].prefix",
                        "t.yaml:10:1: bogus");
        assertThat(e.getMessage()).isEqualTo(String.join(System.lineSeparator(), e.errors()));
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                // wrong types
                Arguments.of("listen: 5", "listen: expected a mapping"),
                Arguments.of("listen: {port: abc}", "listen.port: expected a whole number, got 'abc'"),
                Arguments.of("listen: {port: [1]}", "listen.port: expected a whole number, got a list"),
                Arguments.of("listen: {port: 80.5}", "listen.port: expected a whole number, got '80.5'"),
                Arguments.of("upstream: {rewrite-host: maybe}", "upstream.rewrite-host: expected true or false"),
                Arguments.of("public-base-url: [a]", "public-base-url: expected a single value, got a list"),
                Arguments.of("routes: {prefix: /a}", "routes: expected a list"),
                Arguments.of("routes: [/a]", "routes[0]: expected a mapping"),
                Arguments.of("- a\n- b", "(document): the file must be a mapping"),
                Arguments.of("scope: {trigger: always}", "scope.trigger: 'always' is not one of: missing, missing-or-empty"),
                Arguments.of("scope: {on-unresolved: Reject}", "scope.on-unresolved: 'Reject' is not one of: forward, reject"),
                Arguments.of("scope: {offline-access-prompt: login}",
                        "scope.offline-access-prompt: 'login' is not one of: consent, none"),
                Arguments.of("scope: {offline_access_prompt: none}",
                        "scope.offline_access_prompt: unknown key; did you mean 'offline-access-prompt'?"),
                Arguments.of("store: {type: sqlite}", "store.type: 'sqlite' is not one of: embedded, redis"),
                // ports
                Arguments.of("listen: {port: 65536}", "listen.port: must be between 0 and 65535, got 65536"),
                Arguments.of("admin: {port: -1}", "admin.port: must be between 0 and 65535, got -1"),
                Arguments.of("admin: {port: 8080}", "admin.port: the admin listener cannot share port 8080"),
                Arguments.of("\nlisten: {port: 9090}", "t.yaml:2:16: listen.port: the proxy listener cannot share port 9090"),
                Arguments.of("listen: {host: \"\"}", "listen.host: must be a host name or IP address"),
                // durations
                Arguments.of("metadata: {refresh: 0}", "metadata.refresh: must be greater than zero"),
                Arguments.of("upstream: {idle-timeout: 5y}", "upstream.idle-timeout: '5y' is not a duration"),
                Arguments.of("upstream: {idle-timeout: -5s}", "upstream.idle-timeout: '-5s' is not a duration"),
                Arguments.of("upstream: {read-timeout: soon}", "upstream.read-timeout: 'soon' is not a duration"),
                Arguments.of("upstream: {read-timeout: [1s]}", "upstream.read-timeout: expected a duration"),
                Arguments.of("routes: [{prefix: /a, url: \"http://a\", read-timeout: -1}]", "routes[0].read-timeout: must be zero or more"),
                Arguments.of("routes:\n  - {prefix: /a, url: \"http://a\",\n     read_timeout: 0}", "t.yaml:3:6: routes[0].read_timeout: unknown key; did you mean 'read-timeout'?"),
                Arguments.of("cache: {registrations: {expire-after-access: 0d}}", "cache.registrations.expire-after-access: must be greater than zero"),
                Arguments.of("scope: {document: {timeout: [1s]}}", "scope.document.timeout: expected a duration"),
                // URLs
                Arguments.of("upstream: {url: \"ftp://idp\"}", "upstream.url: must be an absolute http:// or https:// URL"),
                Arguments.of("upstream: {url: \"idp:8081\"}", "upstream.url: must be an absolute http:// or https:// URL"),
                Arguments.of("upstream: {url: \"/relative\"}", "upstream.url: must be an absolute http:// or https:// URL"),
                Arguments.of("upstream: {url: \"http://idp/?a=b\"}", "upstream.url: must not have a query"),
                Arguments.of("public-base-url: \"https://my-domain/#x\"", "public-base-url: must not have a query"),
                Arguments.of("public-base-url: \"https:///path\"", "public-base-url: must name a host"),
                Arguments.of("upstream: {url: \"http://u:pw@idp\"}", "upstream.url: must not carry credentials"),
                Arguments.of("upstream: {url: \"http://idp /x\"}", "upstream.url: 'http://idp /x' is not a valid URL"),
                Arguments.of("upstream: {url: \"\"}", "upstream.url: must not be empty"),
                Arguments.of("resources: [{resource: \"urn:x\"}]", "resources[0].resource: must be an absolute http"),
                Arguments.of("resources: [{scopes-supported: [a]}]", "resources[0].resource: is required"),
                Arguments.of("resources: [{resource: \"https://r\", scopes-supported: [\"a b\"]}]", "resources[0].scopes-supported[0]: 'a b' is not a single scope"),
                // routes
                Arguments.of("routes: [{prefix: mcp, url: \"http://a\"}]", "routes[0].prefix: must be a path starting with '/'"),
                Arguments.of("routes:\n  - {prefix: /a, url: \"http://a\"}\n  - {prefix: /b}", "routes[1].url: is required"),
                Arguments.of("routes:\n  - {prefix: /a, url: \"http://a\"}\n  - {prefix: /a, url: \"http://b\"}", "routes[1].prefix: prefix '/a' is already routed by routes[0]"),
                Arguments.of("routes: [{url: \"http://a\"}]", "routes[0].prefix: is required"),
                // proxies, TLS
                Arguments.of("trusted-proxies: [10.0.0.0/33]", "trusted-proxies[0]: bad prefix length"),
                Arguments.of("trusted-proxies: [lb.internal]", "trusted-proxies[0]: not an IP address or CIDR"),
                Arguments.of("trusted-proxies: 10.0.0.0/8", "trusted-proxies: expected a list"),
                Arguments.of("listen: {tls: {cert: /c.pem}}", "listen.tls.key: set both tls.cert and tls.key"),
                Arguments.of("listen: {tls: {cert: /no/such/c.pem, key: /no/such/k.pem}}", "listen.tls.cert: '/no/such/c.pem' is not a readable file"),
                // scope
                Arguments.of("scope: {sources: []}", "scope.sources: must name at least one source"),
                Arguments.of("scope: {sources: [client, learned, client]}", "scope.sources[2]: 'client' is listed twice"),
                Arguments.of("scope: {sources: [client, guessed]}", "scope.sources[1]: 'guessed' is not one of: client, registered, learned, document, resource, server, default"),
                Arguments.of("scope: {clients: {\"\": openid}}", "scope.clients[\"\"]: a client_id key must not be empty"),
                Arguments.of("scope: {clients: {abc: ~}}", "scope.clients.abc: give the scope for client 'abc'"),
                Arguments.of("scope: {clients: {abc: [a]}}", "scope.clients.abc: expected a single value"),
                Arguments.of("scope: {deny: [\"a b\"]}", "scope.deny[0]: 'a b' is not a single scope"),
                Arguments.of("metadata: {augment: {scopes-supported: [\"a*\"]}}", "metadata.augment.scopes-supported[0]: 'a*': wildcards are only allowed in scope.deny"),
                Arguments.of("metadata: {augment: {rewrite-origin: true}}", "metadata.augment.rewrite-origin: needs public-base-url"),
                Arguments.of("scope: {families: [{name: ChatGPT, redirect-hosts: [chatgpt.com]}]}", "scope.families[0].name: 'ChatGPT' must match [a-z0-9_.-]+"),
                Arguments.of("scope: {families: [{name: \"\", redirect-hosts: [chatgpt.com]}]}", "scope.families[0].name: '' must match"),
                Arguments.of("scope: {families: [{redirect-hosts: [chatgpt.com]}]}", "scope.families[0].name: is required"),
                Arguments.of("scope: {families: [{name: a}]}", "scope.families[0].redirect-hosts: is required"),
                Arguments.of("scope: {families: [{name: a, redirect-hosts: []}]}", "scope.families[0].redirect-hosts: must list at least one host"),
                Arguments.of("scope: {families: [{name: a, redirect-hosts: [\"https://chatgpt.com/cb\"]}]}", "scope.families[0].redirect-hosts[0]: 'https://chatgpt.com/cb' is not a host name"),
                Arguments.of("scope:\n  families:\n    - {name: a, redirect-hosts: [x]}\n    - {name: a, redirect-hosts: [y]}", "scope.families[1].name: family 'a' is already defined by scope.families[0]"),
                Arguments.of("scope: {document: {max-bytes: 100}}", "scope.document.max-bytes: must be at least 1024, got 100"),
                // endpoints, limits, store, cache
                Arguments.of("endpoints: {token: oauth/token}", "endpoints.token: must be a path starting with '/'"),
                Arguments.of("endpoints: {par: \"/par?x\"}", "endpoints.par: must be a path starting with '/'"),
                Arguments.of("upstream: {max-connections: 0}", "upstream.max-connections: must be at least 1, got 0"),
                Arguments.of("limits: {max-form-bytes: 1023}", "limits.max-form-bytes: must be at least 1024, got 1023"),
                Arguments.of("limits: {max-header-bytes: 99999999999}", "limits.max-header-bytes: must be at most 2147483647"),
                Arguments.of("store: {redis: {uri: \"http://redis:6379\"}}", "store.redis.uri: must start with redis://, rediss:// or redis-sentinel://"),
                Arguments.of("store: {path: \" \"}", "store.path: must name a directory"),
                Arguments.of("cache: {registrations: {max-size: 0}}", "cache.registrations.max-size: must be at least 1, got 0"),
                Arguments.of("cache: {unknown-clients: {max-size: -1}}", "cache.unknown-clients.max-size: must be at least 0, got -1"),
                Arguments.of("cache: {unknown-clients: {max-size: lots}}", "cache.unknown-clients.max-size: expected a whole number, got 'lots'"),
                Arguments.of("cache: {unknown-clients: 500}", "cache.unknown-clients: expected a mapping"),
                // YAML-level
                Arguments.of("listen: {port: 1}\nlisten: {port: 2}", "listen: duplicate key (first set on line 1)"),
                Arguments.of("scope: {default: &d openid, deny: [*d]}", "scope.deny[0]: YAML aliases (*d) are not supported"),
                Arguments.of("listen: {}\n---\nadmin: {}", "only one YAML document is allowed"),
                Arguments.of("listen:\n  port: 1\n bad: 2", "YAML syntax error"));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void invalidValuesAreReportedWithKeyAndPosition(String yaml, String expected) {
        List<String> errors = errors(yaml);

        assertThat(errors).anySatisfy(e -> assertThat(e).contains(expected));
        assertThat(errors).allSatisfy(e -> assertThat(e).matches("t\\.yaml:\\d+:\\d+: \\S+: .+"));
    }

    @Test
    void syntaxErrorsNameLineAndColumn() {
        assertThat(errors("listen:\n  port: 1\n bad: 2\n")).singleElement().asString()
                .startsWith("t.yaml:3:2: listen.port: YAML syntax error: ");
    }

    @Test
    void tlsFilesAreCheckedForReadability() throws Exception {
        Path cert = Files.writeString(dir.resolve("c.pem"), TestPki.create("CA").pem());
        String yaml = "listen: {tls: {cert: \"" + cert + "\", key: \"" + dir.resolve("missing.pem") + "\"}}";

        assertThat(errors(yaml)).singleElement().asString()
                .startsWith("t.yaml:1:").contains("listen.tls.key: '").contains("is not a readable file");
    }

    // ---- files and secrets -----------------------------------------------------------------------

    @Test
    void theExampleFileLoadsClean() throws Exception {
        ScopegateConfig c = new ConfigLoader(name -> null).load(EXAMPLE);

        assertThat(c.upstream().url()).isEqualTo(URI.create("http://127.0.0.1:8081"));
        assertThat(c.store().path()).isEqualTo("data");
        assertThat(c.scope().defaultScope()).isEmpty();
        assertThat(c.scope().families()).extracting(Family::name).containsExactly("chatgpt.com", "claude.ai");
        assertThat(c.admin().token()).isEmpty();
        assertThat(c.listen().tls().enabled()).isFalse();
        assertThat(c.publicBaseUrl()).isNull();
    }

    @Test
    void theExampleFileDiffersFromDefaultsOnlyInFamilies() throws Exception {
        ScopegateConfig c = new ConfigLoader(name -> null).load(EXAMPLE);
        ScopegateConfig d = ConfigLoader.defaults();

        assertThat(c.scope().families()).isNotEmpty();
        assertThat(c).usingRecursiveComparison().ignoringFields("scope.families").isEqualTo(d);
    }

    @Test
    void loadNamesTheFileInErrors() throws Exception {
        Path file = Files.writeString(dir.resolve("bad.yaml"), "\n\nupstream: {url: nope}\n", StandardCharsets.UTF_8);

        assertThatThrownBy(() -> new ConfigLoader(name -> null).load(file))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":3:17: upstream.url: ");
    }

    @Test
    void aMissingOrUnreadableFileIsAConfigException() throws IOException {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> new ConfigLoader(name -> null).load(missing))
                .isInstanceOf(ConfigException.class)
                .hasMessage(missing + ": no such file");

        Path binary = Files.write(dir.resolve("bin.yaml"), new byte[] {(byte) 0xff, (byte) 0xfe, 0x00, 0x41});
        assertThatThrownBy(() -> new ConfigLoader(name -> null).load(binary))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(binary.toString());
    }

    @Test
    void theAdminTokenNeverAppearsInToString() throws Exception {
        ScopegateConfig c = parse("admin: {token: \"${T}\"}", Map.of("T", "hunter2-very-secret"));

        assertThat(c.admin().token()).isEqualTo("hunter2-very-secret");
        assertThat(c.admin().toString()).doesNotContain("hunter2").contains("token=***").contains("port=9090");
        assertThat(c.toString()).doesNotContain("hunter2");
        assertThat(ConfigLoader.defaults().admin().toString()).contains("token=\"\"");
    }

    @Test
    void aRedisPasswordNeverAppearsInToString() throws Exception {
        ScopegateConfig c = parse("store: {type: redis, redis: {uri: \"redis://default:pa55word@redis:6379/0\"}}");

        assertThat(c.store().redis().uri()).contains("pa55word");
        assertThat(c.toString()).doesNotContain("pa55word").contains("redis://***@redis:6379/0");
    }

    @Test
    void theAdminTokenComesTrimmedFromTokenFile() throws Exception {
        Path file = Files.writeString(dir.resolve("admin-token"), "  t0ken-from-a-secret \n");
        ScopegateConfig c = parse("admin: {token: \"${NONE:-}\", token-file: \"" + file + "\"}");

        assertThat(c.admin()).isEqualTo(new Admin("127.0.0.1", 9090, "t0ken-from-a-secret", file.toString()));
        assertThat(c.toString()).doesNotContain("t0ken-from-a-secret").contains("tokenFile=" + file);
        // An empty token-file (e.g. "${VAR:-}") means unset: the inline token stays.
        assertThat(parse("admin: {token: inline, token-file: \"\"}").admin()).isEqualTo(new Admin("127.0.0.1", 9090, "inline", null));
    }

    @Test
    void tokenAndTokenFileTogetherAreAnError() throws Exception {
        Path file = Files.writeString(dir.resolve("admin-token"), "from-file");

        assertThat(errors("admin:\n  token: inline\n  token-file: \"" + file + "\"\n")).containsExactly(
                "t.yaml:3:15: admin.token-file: set admin.token or admin.token-file, not both (admin.token is not empty)");
    }

    @Test
    void anUnusableSecretFileIsAnErrorNamingKeyAndFileButNotTheContent() throws Exception {
        Path missing = dir.resolve("missing");
        Path empty = Files.writeString(dir.resolve("empty"), " \n\t");
        Path binary = Files.write(dir.resolve("binary"), new byte[] {(byte) 0xff, (byte) 0xfe, 0x41});

        assertThat(errors("admin: {token-file: \"" + missing + "\"}")).singleElement().asString()
                .startsWith("t.yaml:1:21: admin.token-file: '" + missing + "' does not exist");
        assertThat(errors("admin: {token-file: \"" + empty + "\"}")).singleElement().asString()
                .contains("admin.token-file: '" + empty + "' is empty");
        assertThat(errors("admin: {token-file: \"" + dir + "\"}")).singleElement().asString()
                .contains("admin.token-file: '" + dir + "' is a directory");
        assertThat(errors("admin: {token-file: \"" + binary + "\"}")).singleElement().asString()
                .contains("admin.token-file: '" + binary + "' is not UTF-8 text");
        assertThat(errors("store: {redis: {password-file: \"" + missing + "\"}}")).singleElement().asString()
                .startsWith("t.yaml:1:32: store.redis.password-file: '" + missing + "' does not exist");
    }

    @Test
    void theRedisPasswordComesTrimmedFromPasswordFileAndNeverShows() throws Exception {
        Path file = Files.writeString(dir.resolve("redis-password"), "pa55word-from-a-secret\n");
        ScopegateConfig c = parse("store: {type: redis, redis: {uri: \"redis://default:@redis:6379\", password-file: \""
                + file + "\"}}");

        assertThat(c.store().redis()).isEqualTo(new Redis("redis://default:@redis:6379", "scopegate:", file.toString(),
                "pa55word-from-a-secret"));
        assertThat(c.toString()).doesNotContain("pa55word").contains("passwordFile=" + file).contains("password=***");
    }

    @ParameterizedTest
    @ValueSource(strings = {"redis://:pw@redis", "redis://user:pw@redis:6379/0", "redis://pw@redis", "rediss://a:b@h1,h2",
        "redis-sentinel://pw@s1:26379,s2:26379#m"})
    void aPasswordFileForAUriWithAPasswordIsAnError(String uri) throws Exception {
        Path file = Files.writeString(dir.resolve("redis-password"), "other");

        assertThat(errors("store: {redis: {uri: \"" + uri + "\", password-file: \"" + file + "\"}}")).singleElement()
                .asString().contains("store.redis.password-file: store.redis.uri already carries a password")
                .doesNotContain(":pw@").doesNotContain("a:b@");
    }

    @Test
    void aBadRedisUriErrorDoesNotLeakItsPassword() {
        assertThat(errors("store: {redis: {uri: \"tcp://:pa55word@redis\"}}")).singleElement().asString()
                .doesNotContain("pa55word");
    }
}
