package dev.scopegate.oauth;

import ch.qos.logback.classic.Level;
import dev.scopegate.ops.LogCapture;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Rewrite lines are remembered by the identity of their parts, and never mixed up. */
class AuditLogTest {

    @Test
    void aRepeatedRewriteReusesItsLineAndEveryOtherPartMakesANewOne() {
        AuditLog audit = new AuditLog();
        String client = new String("client-a");
        String sameTextOtherString = new String("client-a");
        String scope = "a b";
        try (LogCapture lines = new LogCapture("scopegate.audit", Level.INFO)) {
            audit.rewrite(client, "chatgpt", "registered", scope, false, "authorize");
            audit.rewrite(client, "chatgpt", "registered", scope, false, "authorize");
            audit.rewrite(sameTextOtherString, "chatgpt", "registered", scope, false, "authorize");
            audit.rewrite(client, "chatgpt", "registered", "a b c", false, "authorize");
            audit.rewrite(client, "other", "registered", scope, true, "par");
            audit.rewrite("bad \"id\"\n", "chatgpt", "default", scope, false, "authorize");
            assertThat(lines.messages()).containsExactly(
                    "rewrite client_id=client-a family=chatgpt source=registered scope=\"a b\" dry_run=false route=authorize",
                    "rewrite client_id=client-a family=chatgpt source=registered scope=\"a b\" dry_run=false route=authorize",
                    "rewrite client_id=client-a family=chatgpt source=registered scope=\"a b\" dry_run=false route=authorize",
                    "rewrite client_id=client-a family=chatgpt source=registered scope=\"a b c\" dry_run=false route=authorize",
                    "rewrite client_id=client-a family=other source=registered scope=\"a b\" dry_run=true route=par",
                    "rewrite client_id=bad__id__ family=chatgpt source=default scope=\"a b\" dry_run=false route=authorize");
            assertThat(lines.events().get(1).getFormattedMessage()).isSameAs(lines.events().get(0).getFormattedMessage());
        }
    }

    @Test
    void manyClientsInTurnEachGetTheirOwnLine() {
        AuditLog audit = new AuditLog();
        try (LogCapture lines = new LogCapture("scopegate.audit", Level.INFO)) {
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < 300; i++) {
                    audit.rewrite("c" + i, "f", "registered", "s" + i, false, "authorize");
                }
            }
            for (int i = 0; i < 600; i++) {
                assertThat(lines.messages().get(i)).contains("client_id=c" + (i % 300) + " ").contains("scope=\"s" + (i % 300) + "\"");
            }
        }
    }
}
