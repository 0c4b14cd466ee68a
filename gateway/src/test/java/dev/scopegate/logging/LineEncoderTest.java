package dev.scopegate.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link LineEncoder} writes byte for byte what the pattern it replaces writes:
 * {@code %d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %logger{0} %msg%n}, checked against Logback's own
 * {@link PatternLayoutEncoder} for any instant, zone, logger name and message.
 */
class LineEncoderTest {

    private static final List<String> ZONES = List.of("UTC", "Europe/Berlin", "America/New_York",
            "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "Australia/Lord_Howe", "America/Sao_Paulo");

    private final LoggerContext context = newContext();

    private static LoggerContext newContext() {
        LoggerContext c = new LoggerContext();
        c.setMDCAdapter(new LogbackMDCAdapter());
        return c;
    }

    /** 1970 to 2200: every offset change (DST, zone history) in those zones falls in range. */
    @Property(tries = 2000)
    void sameBytesAsThePattern(@ForAll @LongRange(min = 0L, max = 7_258_118_400_000L) long millis,
                               @ForAll("zones") String zone, @ForAll("loggers") String logger,
                               @ForAll("messages") String message) {
        ILoggingEvent event = event(logger, message, millis);
        assertThat(new String(encoder(zone).encode(event), StandardCharsets.UTF_8))
                .isEqualTo(new String(reference(zone).encode(event), StandardCharsets.UTF_8));
    }

    @Property(tries = 300)
    void oneEncoderAcrossSecondsAndZonesOfItsOwn(@ForAll("zones") String zone,
                                                 @ForAll @LongRange(min = 1_700_000_000_000L, max = 1_800_000_000_000L) long start) {
        LineEncoder encoder = encoder(zone);
        PatternLayoutEncoder reference = reference(zone);
        // steps that stay within a second, cross one, and come back (the cache is per second)
        long[] steps = {0, 1, 998, 1, 1000, -1001, 3_600_000, 86_400_000, -86_400_000, 0};
        long t = start;
        for (long step : steps) {
            t += step;
            ILoggingEvent event = event("scopegate.access", "127.0.0.1 \"GET /x\" 200", t);
            assertThat(encoder.encode(event)).isEqualTo(reference.encode(event));
        }
    }

    @Test
    void accessLineInUtc() {
        ILoggingEvent event = event("scopegate.access", "127.0.0.1 \"GET /api\" 200 in=0 out=53", 1_795_000_000_123L);
        assertThat(new String(encoder("UTC").encode(event), StandardCharsets.US_ASCII))
                .isEqualTo("2026-11-18T11:06:40.123Z access 127.0.0.1 \"GET /api\" 200 in=0 out=53" + System.lineSeparator());
    }

    @Test
    void nonAsciiMessageIsUtf8() {
        ILoggingEvent event = event("scopegate.audit", "client_id=caf\u00e9 \ud83d\ude00", 0);
        assertThat(new String(encoder("UTC").encode(event), StandardCharsets.UTF_8))
                .isEqualTo("1970-01-01T00:00:00.000Z audit client_id=caf\u00e9 \ud83d\ude00" + System.lineSeparator());
    }

    @Test
    void argumentsAreFormatted() {
        LoggingEvent event = new LoggingEvent("fqcn", context.getLogger("scopegate.access"), Level.INFO,
                "{} \"-\" {} refused", null, new Object[]{"::1", 400});
        event.setTimeStamp(0);
        assertThat(new String(encoder("UTC").encode(event), StandardCharsets.US_ASCII))
                .isEqualTo("1970-01-01T00:00:00.000Z access ::1 \"-\" 400 refused" + System.lineSeparator());
    }

    @Provide
    Arbitrary<String> zones() {
        return Arbitraries.of(ZONES);
    }

    @Provide
    Arbitrary<String> loggers() {
        return Arbitraries.oneOf(Arbitraries.of("scopegate.access", "scopegate.audit", "root", "a.b.", "x.\u00fcml\u00e4ut"),
                Arbitraries.strings().withChars("ab.\u00e9").ofMinLength(1).ofMaxLength(12));
    }

    @Provide
    Arbitrary<String> messages() {
        return Arbitraries.oneOf(
                Arbitraries.strings().ascii().ofMaxLength(200),
                Arbitraries.strings().all().ofMaxLength(40),
                Arbitraries.just(""));
    }

    private LoggingEvent event(String logger, String message, long millis) {
        LoggingEvent event = new LoggingEvent("fqcn", context.getLogger(logger), Level.INFO, message, null, null);
        event.setTimeStamp(millis);
        return event;
    }

    private static LineEncoder encoder(String zone) {
        LineEncoder e = new LineEncoder(ZoneId.of(zone));
        e.start();
        return e;
    }

    private PatternLayoutEncoder reference(String zone) {
        PatternLayoutEncoder e = new PatternLayoutEncoder();
        e.setContext(context);
        e.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX, " + zone + "} %logger{0} %msg%n");
        e.setCharset(StandardCharsets.UTF_8);
        e.start();
        return e;
    }
}
