package dev.scopegate.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;

import java.util.Iterator;

/**
 * INFO lines of the access and audit loggers, straight to their {@link BufferedLineAppender}
 * when that is where Logback would put them and nothing else: the logger is not additive, the
 * appender is its only one (started, no filters, a {@link LineEncoder}) and the context has no
 * turbo filters. Then the appended bytes are the ones Logback's event path would have appended,
 * without the event, its {@code Instant} and the appender loop (two thirds of a line's cost).
 * Any other configuration (the JSON layout, another appender, a capture added by a test or an
 * operator) goes through {@code Logger.info}. Checked on every line: a reconfiguration or an
 * appender attached at run time applies at once. Thread-safe.
 *
 * <p>The composition root hands {@code Lines::info} to the access and audit logs as their line
 * writer ({@code AccessLog.LineWriter}, {@code AuditLog.LineWriter}): they own the interface, this
 * package knows neither of them.
 */
public final class Lines {

    private Lines() {
    }

    /** {@code log.info(message)}, by the short path when it is equivalent. */
    public static void info(org.slf4j.Logger log, String message) {
        if (log instanceof Logger logger && !logger.isAdditive() && logger.isInfoEnabled()
                && logger.getLoggerContext().getTurboFilterList().isEmpty()) {
            BufferedLineAppender only = onlyAppender(logger);
            if (only != null && only.appendLine(logger.getName(), message)) {
                return;
            }
        }
        log.info(message);
    }

    private static BufferedLineAppender onlyAppender(Logger logger) {
        Iterator<Appender<ILoggingEvent>> it = logger.iteratorForAppenders();
        if (!it.hasNext()) {
            return null;
        }
        Appender<ILoggingEvent> first = it.next();
        return first instanceof BufferedLineAppender lines && !it.hasNext() ? lines : null;
    }
}
