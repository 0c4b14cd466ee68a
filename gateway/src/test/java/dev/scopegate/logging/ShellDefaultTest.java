package dev.scopegate.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.status.Status;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URL;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped Logback configs read {@code SCOPEGATE_LOG_LEVEL} and {@code SCOPEGATE_LOG_FLUSH_MILLIS}
 * with the shell's {@code ${NAME:-default}} meaning: an empty value takes the default.
 */
class ShellDefaultTest {

    @ParameterizedTest(name = "{0}={1} -> {2}")
    @CsvSource(nullValues = "UNSET", value = {
        "SCOPEGATE_TEST_UNSET_VAR, UNSET, INFO",
        "V, '', INFO",
        "V, warn, warn",
        "V, ' ', ' '",
    })
    void unsetOrEmptyTakesTheDefault(String key, String value, String expected) {
        ShellDefault d = new ShellDefault(name -> name.equals("V") ? value : null);
        d.setKey(key);
        d.setDefault("INFO");
        assertThat(d.getPropertyValue()).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/logback.xml", "/logback-json.xml"})
    void theShippedConfigsGiveTheDefaultForAnEmptyVariable(String config) throws Exception {
        assertThat(rootLevel(config, Map.of("SCOPEGATE_LOG_LEVEL", "", "SCOPEGATE_LOG_FLUSH_MILLIS", "")))
                .isEqualTo(Level.INFO);
        assertThat(rootLevel(config, Map.of("SCOPEGATE_LOG_LEVEL", "warn", "SCOPEGATE_LOG_FLUSH_MILLIS", "250")))
                .isEqualTo(Level.WARN);
    }

    /** Configures a fresh context from {@code config} with {@code properties} as system properties. */
    private static Level rootLevel(String config, Map<String, String> properties) throws Exception {
        URL url = ShellDefaultTest.class.getResource(config);
        properties.forEach(System::setProperty);
        LoggerContext context = new LoggerContext();
        try {
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            configurator.doConfigure(url);
            assertThat(context.getStatusManager().getCopyOfStatusList())
                    .as("%s configured without errors (flushMillis included)", config)
                    .noneMatch(s -> s.getLevel() == Status.ERROR);
            return context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getLevel();
        } finally {
            context.stop();
            properties.keySet().forEach(System::clearProperty);
        }
    }
}
