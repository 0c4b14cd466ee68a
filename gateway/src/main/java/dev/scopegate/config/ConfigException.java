package dev.scopegate.config;

import java.util.List;

/**
 * A configuration could not be loaded. Carries every problem found, not just the first, so an
 * operator can fix a file in one pass; each entry names the source, line, column and dotted key
 * path ({@code scopegate.yaml:12:3: upstream.connect-timeout: ...}). Immutable.
 */
public final class ConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    private final List<String> errors;

    /** @param errors at least one message, each already naming its location and key */
    public ConfigException(List<String> errors) {
        super(String.join(System.lineSeparator(), requireNonEmpty(errors)));
        this.errors = List.copyOf(errors);
    }

    /** The problems, in file order, one message each. */
    public List<String> errors() {
        return errors;
    }

    private static List<String> requireNonEmpty(List<String> errors) {
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one error");
        }
        return errors;
    }
}
