package dev.scopegate.logging;

import ch.qos.logback.core.PropertyDefinerBase;

import java.util.Objects;
import java.util.function.Function;

/**
 * A Logback {@code <define>} that reads a setting the way the shell reads {@code ${NAME:-default}}:
 * the system property {@code NAME}, else the environment variable {@code NAME}, and
 * {@code default} when that is unset <em>or empty</em>. Logback's own {@code ${NAME:-default}}
 * substitutes the default only when the name is undefined, so an empty
 * {@code SCOPEGATE_LOG_LEVEL=} (as Compose passes {@code ${SCOPEGATE_LOG_LEVEL:-}}) made the root
 * level an unparsable "" and Logback fell back to DEBUG.
 *
 * <pre>{@code
 * <define name="scopegate.log.level" class="dev.scopegate.logging.ShellDefault">
 *   <key>SCOPEGATE_LOG_LEVEL</key>
 *   <default>INFO</default>
 * </define>
 * }</pre>
 *
 * Called by Logback's configurator thread only.
 */
public final class ShellDefault extends PropertyDefinerBase {

    private final Function<String, String> env;
    private String key;
    private String dflt = "";

    public ShellDefault() {
        this(System::getenv);
    }

    ShellDefault(Function<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
    }

    /** The name of the system property and environment variable ({@code <variable>} is taken by Logback). */
    public void setKey(String key) {
        this.key = key;
    }

    public void setDefault(String dflt) {
        this.dflt = dflt == null ? "" : dflt;
    }

    @Override
    public String getPropertyValue() {
        if (key == null || key.isEmpty()) {
            addError("ShellDefault needs a <key>");
            return dflt;
        }
        String value = System.getProperty(key);
        if (value == null) {
            value = env.apply(key);
        }
        return value == null || value.isEmpty() ? dflt : value;
    }
}
