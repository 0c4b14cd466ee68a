package dev.scopegate;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import org.slf4j.LoggerFactory;

import java.net.URL;

/**
 * The process's Logback context, as {@link Cli} sets it up and takes it down: the JSON layout
 * chosen at start, and the final flush at exit. Process-wide, so not part of a {@link Gateway}
 * (several gateways in one JVM share it). Call from the main thread or a shutdown hook.
 */
final class Logs {

    private Logs() {
    }

    /** Stops Logback's context: its appenders write what they buffer (the access and audit lines). */
    static void stop() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }

    /**
     * Replaces the text layout of {@code logback.xml} by {@code logback-json.xml} (one JSON object
     * per line on every logger). Chosen once at start: {@code logging.json} needs a restart.
     */
    static void useJson() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return; // another SLF4J backend: its own config decides
        }
        URL json = Logs.class.getResource("/logback-json.xml");
        if (json == null) {
            return;
        }
        try {
            context.reset();
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            configurator.doConfigure(json);
        } catch (JoranException e) {
            System.err.println("cannot switch to JSON logs: " + e.getMessage());
        }
    }
}
