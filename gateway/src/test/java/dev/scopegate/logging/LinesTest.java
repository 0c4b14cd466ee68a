package dev.scopegate.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.read.ListAppender;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Marker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The short path appends exactly what Logback's event path appends, and only where Logback
 * would put the line and nowhere else: every other configuration takes the event path.
 */
class LinesTest {

    @TempDir
    Path dir;
    LoggerContext context;
    Logger logger;
    BufferedLineAppender lines;
    Path file;

    @BeforeEach
    void start() {
        context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter());
        logger = context.getLogger("scopegate.access");
        logger.setLevel(Level.INFO);
        logger.setAdditive(false);
        file = dir.resolve("lines.log");
        lines = new BufferedLineAppender();
        lines.setContext(context);
        lines.setName("LINES");
        LineEncoder encoder = new LineEncoder();
        encoder.setContext(context);
        encoder.start();
        lines.setEncoder(encoder);
        lines.setFile(file.toString());
        lines.start();
        logger.addAppender(lines);
    }

    @AfterEach
    void stop() {
        lines.stop();
        context.stop();
    }

    private List<String> written() throws Exception {
        lines.stop();
        return Files.readAllLines(file);
    }

    /** The line without its date-time (which differs between the two calls by the clock only). */
    private static String tail(String line) {
        return line.substring(line.indexOf(' ') + 1);
    }

    @Test
    void theShortPathWritesWhatTheEventPathWrites() throws Exception {
        String message = "127.0.0.1 \"GET /a\" 200 in=0 out=2 upstream_ms=0.1 total_ms=0.2 route=pass-through {} \u00e9\u20ac";
        Lines.info(logger, message);
        logger.info(message);
        List<String> out = written();
        assertThat(out).hasSize(2);
        assertThat(tail(out.get(0))).isEqualTo(tail(out.get(1))).isEqualTo("access " + message);
        assertThat(out.get(0)).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) access .*");
    }

    @Test
    void anotherAppenderOnTheLoggerGetsTheLineToo() throws Exception {
        ListAppender<ILoggingEvent> capture = new ListAppender<>();
        capture.setContext(context);
        capture.start();
        logger.addAppender(capture);
        Lines.info(logger, "one");
        logger.detachAppender(capture);
        Lines.info(logger, "two");
        assertThat(capture.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly("one");
        assertThat(written()).extracting(LinesTest::tail).containsExactly("access one", "access two");
    }

    @Test
    void levelsFiltersAndTurboFiltersStillApply() throws Exception {
        logger.setLevel(Level.WARN);
        Lines.info(logger, "below the level");
        logger.setLevel(Level.INFO);
        lines.addFilter(new Filter<>() {
            @Override
            public FilterReply decide(ILoggingEvent event) {
                return event.getFormattedMessage().contains("secret") ? FilterReply.DENY : FilterReply.NEUTRAL;
            }
        });
        Lines.info(logger, "a secret");
        Lines.info(logger, "filtered but kept");
        lines.clearAllFilters();
        TurboFilter denyOne = new TurboFilter() {
            @Override
            public FilterReply decide(Marker marker, Logger l, Level level, String format, Object[] params, Throwable t) {
                return "turbo denied".equals(format) ? FilterReply.DENY : FilterReply.NEUTRAL;
            }
        };
        denyOne.start();
        context.addTurboFilter(denyOne);
        Lines.info(logger, "turbo denied");
        Lines.info(logger, "turbo kept");
        context.resetTurboFilterList();
        Lines.info(logger, "direct again");
        assertThat(written()).extracting(LinesTest::tail)
                .containsExactly("access filtered but kept", "access turbo kept", "access direct again");
    }

    @Test
    void anAdditiveLoggerOrAnotherEncoderTakesTheEventPath() throws Exception {
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> rootCapture = new ListAppender<>();
        rootCapture.setContext(context);
        rootCapture.start();
        root.addAppender(rootCapture);
        logger.setAdditive(true);
        Lines.info(logger, "to both");
        logger.setAdditive(false);
        Lines.info(logger, "to lines only");
        assertThat(rootCapture.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly("to both");

        PatternLayoutEncoder pattern = new PatternLayoutEncoder();
        pattern.setContext(context);
        pattern.setPattern("pattern %msg%n");
        pattern.start();
        lines.setEncoder(pattern);
        Lines.info(logger, "through the pattern");
        List<String> out = written();
        assertThat(out).hasSize(3);
        assertThat(tail(out.get(0))).isEqualTo("access to both");
        assertThat(tail(out.get(1))).isEqualTo("access to lines only");
        assertThat(out.get(2)).isEqualTo("pattern through the pattern");
    }

    @Test
    void aStoppedAppenderIsLeftToLogback() {
        lines.stop();
        Lines.info(logger, "after stop"); // Logback warns in its status, nothing is written or thrown
        assertThat(lines.appendLine("scopegate.access", "x")).isFalse();
    }
}
