package dev.scopegate.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scopegate.logging.BufferedLineAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit log (one structured line per rewrite or unresolved decision, on its own logger), the
 * access log, the JSON layout, and that no secret reaches any logger.
 */
class LoggingTest {

    @TempDir
    Path dir;
    Harness h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void auditAndAccessLinesCarryTheDecisionAndNoSecret() throws Exception {
        try (LogCapture audit = new LogCapture("scopegate.audit", Level.INFO);
             LogCapture access = new LogCapture("scopegate.access", Level.INFO);
             LogCapture everything = new LogCapture(org.slf4j.Logger.ROOT_LOGGER_NAME, Level.INFO)) {
            h = new Harness(dir);
            h.env.put("ADMIN_TOKEN", "t0ken-never-logged");
            h.start(h.yaml("  default: \"worker:read\"", "admin: {host: 127.0.0.1, port: 0, token: \"${ADMIN_TOKEN}\"}"));
            String clientId = h.register(null);   // the IdP answers with client_secret and registration_access_token
            h.authorize(clientId, "st4te", null);  // rewrite from default
            h.get(h.gw() + "/oauth/token?code=c0de-in-query", "Authorization", "Bearer at-in-header");
            h.get(h.admin() + "/admin/explain?client_id=" + clientId, "Authorization", "Bearer t0ken-never-logged");
            h.env.put("ADMIN_TOKEN", "rotated-t0ken-never-logged");
            h.gateway.reload();

            Harness.waitFor(() -> access.messages().size() >= 3 && !audit.messages().isEmpty());

            List<ILoggingEvent> auditEvents = audit.events();
            assertThat(auditEvents).anySatisfy(e -> {
                assertThat(e.getLoggerName()).isEqualTo("scopegate.audit");
                assertThat(e.getFormattedMessage()).contains("rewrite", "client_id=" + clientId, "family=chatgpt",
                        "source=default", "scope=\"worker:read\"", "dry_run=false");
            });
            assertThat(access.events()).anySatisfy(e -> {
                assertThat(e.getFormattedMessage()).contains("\"GET /oauth/authorize\" 302", "upstream_ms=",
                        "total_ms=", "route=authorize");
                // the text layout gets one preformatted message: no key-value pairs to build per request
                assertThat(e.getKeyValuePairs()).isNullOrEmpty();
            });
            // The reload line names the changed key, never the value.
            assertThat(everything.messages()).anySatisfy(m -> assertThat(m).contains("changed admin.token"));

            List<String> all = new ArrayList<>(everything.messages());
            all.addAll(access.messages());
            all.addAll(audit.messages());
            for (String m : all) {
                assertThat(m).doesNotContain(TestIdp.SECRET_PREFIX).doesNotContain("rat-")
                        .doesNotContain("c0de").doesNotContain("st4te").doesNotContain("at-in-header")
                        .doesNotContain("t0ken-never-logged").doesNotContain("code_challenge");
            }
        }
    }

    @Test
    void withTheJsonLayoutTheAccessLogAttachesEveryField() throws Exception {
        try (LogCapture access = new LogCapture("scopegate.access", Level.INFO)) {
            new dev.scopegate.proxy.AccessLog(true, org.slf4j.Logger::info).exchange("127.0.0.1", "GET", "/oauth/authorize", 302, 0, 10,
                    1_500_000, 2_500_000, dev.scopegate.proxy.route.RouteKind.AUTHORIZE);
            assertThat(access.events()).singleElement().satisfies(e -> {
                assertThat(e.getFormattedMessage())
                        .isEqualTo("127.0.0.1 \"GET /oauth/authorize\" 302 in=0 out=10 upstream_ms=1.5 total_ms=2.5 route=authorize");
                assertThat(e.getKeyValuePairs()).extracting(kv -> kv.key)
                        .containsExactly("client_ip", "method", "path", "status", "bytes_in", "bytes_out", "upstream_ms",
                                "total_ms", "route");
            });
        }
    }

    @Test
    void theJsonLayoutWritesOneJsonObjectPerLineWithTheFields() throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(getClass().getResource("/logback-json.xml"));
        try {
            ch.qos.logback.classic.Logger access = context.getLogger("scopegate.access");
            ch.qos.logback.classic.Logger audit = context.getLogger("scopegate.audit");
            assertThat(access.isAdditive()).isFalse();
            assertThat(audit.isAdditive()).isFalse();
            Appender<ILoggingEvent> lines = access.getAppender("LINES");
            assertThat(lines).isInstanceOf(BufferedLineAppender.class).isSameAs(audit.getAppender("LINES"));
            assertThat(lines.isStarted()).isTrue();
            var encoder = ((BufferedLineAppender) lines).getEncoder();
            assertThat(encoder).isInstanceOf(ch.qos.logback.classic.encoder.JsonEncoder.class);

            // Encode a real access event as the AccessLog writes it.
            ch.qos.logback.classic.spi.LoggingEvent event = new ch.qos.logback.classic.spi.LoggingEvent(
                    "x", access, Level.INFO, "{} \"{} {}\" {}", null, new Object[]{"127.0.0.1", "GET", "/oauth/authorize", 302});
            event.addKeyValuePair(new org.slf4j.event.KeyValuePair("client_ip", "127.0.0.1"));
            event.addKeyValuePair(new org.slf4j.event.KeyValuePair("status", 302));
            String line = new String(encoder.encode(event), StandardCharsets.UTF_8);
            assertThat(line).endsWith("\n").doesNotContain("\n\n");
            JsonNode json = new ObjectMapper().readTree(line);
            assertThat(json.path("level").asText()).isEqualTo("INFO");
            assertThat(json.path("loggerName").asText()).isEqualTo("scopegate.access");
            assertThat(json.path("formattedMessage").asText()).isEqualTo("127.0.0.1 \"GET /oauth/authorize\" 302");
            assertThat(json.path("kvpList").toString()).contains("client_ip").contains("127.0.0.1");
            assertThat(json.has("timestamp")).isTrue();
            assertThat(json.has("arguments")).isFalse();
        } finally {
            context.stop();
        }
    }

    @Test
    void theJsonLayoutIsChosenByTheConfigKeyAndIsDocumented() throws Exception {
        // logging.json is a restart-only key: it is read once, at start.
        assertThat(dev.scopegate.config.ConfigChanges.restartOnly("logging.json")).isTrue();
        assertThat(dev.scopegate.config.ConfigChanges.restartOnly("logging.access")).isFalse();
        String xml = new String(getClass().getResourceAsStream("/logback.xml").readAllBytes(), StandardCharsets.UTF_8);
        assertThat(xml).contains("logback-json.xml").contains("scopegate.audit");
        Path example = DockerFiles.dir().resolve("scopegate/scopegate.yaml");
        assertThat(Files.readString(example)).contains("json: true");
    }
}
