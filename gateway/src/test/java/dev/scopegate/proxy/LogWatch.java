package dev.scopegate.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Collects log events that mean something went wrong inside Netty while a test ran: leak reports
 * ({@code LEAK:}), exceptions thrown by event-loop tasks, exceptions that reached the end of a
 * pipeline. Attach before the test, {@link #close()} after. Thread-safe.
 */
final class LogWatch extends AppenderBase<ILoggingEvent> implements AutoCloseable {

    private final List<String> problems = new CopyOnWriteArrayList<>();
    private final List<String> allowed = new CopyOnWriteArrayList<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

    private LogWatch() {
        setName("scopegate-test-log-watch");
        setContext(root.getLoggerContext());
        start();
        root.addAppender(this);
    }

    static LogWatch attach() {
        return new LogWatch();
    }

    @Override
    protected void append(ILoggingEvent event) {
        String message = event.getFormattedMessage();
        boolean nettyTrouble = event.getLoggerName().startsWith("io.netty") && event.getLevel().isGreaterOrEqual(Level.WARN);
        boolean leak = message != null && message.contains("LEAK:");
        boolean bug = event.getLevel().isGreaterOrEqual(Level.ERROR) && event.getLoggerName().startsWith("scopegate");
        if (nettyTrouble || leak || bug) {
            String cause = event.getThrowableProxy() == null ? ""
                    : " / " + event.getThrowableProxy().getClassName() + ": " + event.getThrowableProxy().getMessage();
            problems.add(event.getLevel() + " " + event.getLoggerName() + ": " + message + cause);
        }
    }

    /** Problems whose text contains {@code fragment} are expected by the test and not reported. */
    void allow(String fragment) {
        allowed.add(fragment);
    }

    List<String> problems() {
        return problems.stream().filter(p -> allowed.stream().noneMatch(p::contains)).toList();
    }

    @Override
    public void close() {
        root.detachAppender(this);
        stop();
    }
}
