package dev.scopegate.oauth;

/**
 * {@code ArchitectureTest} fixture, never used: {@code oauth} reaching Logback (and the
 * {@code logging} package) itself, as {@code AuditLog} did through {@code logging.Lines}.
 */
final class ArchFixtureOAuthUsesLogback {

    private ArchFixtureOAuthUsesLogback() {
    }

    static boolean direct(org.slf4j.Logger log) {
        return log instanceof ch.qos.logback.classic.Logger;
    }

    static void shortPath(org.slf4j.Logger log) {
        dev.scopegate.logging.Lines.info(log, "line");
    }
}
