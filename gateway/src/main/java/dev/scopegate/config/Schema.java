package dev.scopegate.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The annotations that make the records of {@link ScopegateConfig} the one schema of the config:
 * the generic binder ({@link RecordBinder}), the reload diff and restart-only list
 * ({@link ConfigChanges}) and the JSON Schema ({@link JsonSchema}) all read them. A component's
 * YAML key is its name in kebab-case unless {@link Name} says otherwise.
 */
final class Schema {

    private Schema() {
    }

    /** The default, written as YAML (a scalar or a flow list), bound by the same code as the file. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Default {
        String value();
    }

    /** May be null: absent (or, for text, empty) means unset. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Nullable {
    }

    /** Must be written (in a list element); an element without it is reported and left out. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Required {
    }

    /** Built into sockets, pools or caches at start: a reload keeps the running value (the whole subtree). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Restart {
    }

    /** A secret: diffs and logs name the key, never the value. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Secret {
    }

    /** Not a YAML key: filled in by a validation hook (e.g. a password read from a file). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Computed {
    }

    /** The YAML key, when it is not the kebab-case component name. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Name {
        String value();
    }

    /** Inclusive bounds of a whole number ({@code max} defaults to the type's largest value). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Range {
        long min() default 0;

        long max() default Long.MAX_VALUE;
    }

    /** A duration that may be zero (otherwise it must be greater than zero). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface ZeroAllowed {
    }

    /** A text rule, for a string or for each string of a list. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Text {
        Rule value();
    }

    /** One line for the JSON Schema's description (editors show it on hover). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Doc {
        String value();
    }

    /** Text rules: {@link #problem} says what is wrong with a value (null: fine), {@link #normalize} how it is kept. */
    enum Rule {
        HOST("^\\S+$"),
        URL_PATH("^/[^?#\\s]*$"),
        SCOPE("^[^\\s*]+$"),
        SCOPE_GLOB("^\\S+$"),
        HOST_RULE("^(\\*\\.)?[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$"),
        METRIC_LABEL("^[a-z0-9_.-]+$"),
        /** One registered name of an OAuth value list, e.g. a PKCE method ({@code S256}). */
        TOKEN("^[A-Za-z0-9._~-]+$");

        private static final Pattern FAMILY_NAME = Pattern.compile("[a-z0-9_.-]+");
        private static final Pattern TOKEN_TEXT = Pattern.compile("[A-Za-z0-9._~-]+");
        private static final Pattern HOST_RULE_TEXT = Pattern.compile("(\\*\\.)?[a-z0-9_-]+(\\.[a-z0-9_-]+)*");

        /** The JSON Schema pattern (an editor's hint; the binder's check is the authority). */
        final String pattern;

        Rule(String pattern) {
            this.pattern = pattern;
        }

        String normalize(String value) {
            return switch (this) {
                case HOST -> value.trim();
                // Host names compare case-insensitively; store them the way the matcher will compare.
                case HOST_RULE -> value.trim().toLowerCase(Locale.ROOT);
                default -> value;
            };
        }

        /** @param raw the value as written, {@code value} normalized */
        String problem(String raw, String value) {
            return switch (this) {
                case HOST -> value.isEmpty() || value.chars().anyMatch(Character::isWhitespace)
                        ? "must be a host name or IP address, got '" + value + "'" : null;
                case URL_PATH -> !value.startsWith("/")
                        || value.chars().anyMatch(c -> c == '?' || c == '#' || Character.isWhitespace(c))
                        ? "must be a path starting with '/' (no query, fragment or spaces), got '" + value + "'" : null;
                case SCOPE, SCOPE_GLOB -> value.isBlank() || value.chars().anyMatch(Character::isWhitespace)
                        ? "'" + value + "' is not a single scope (write one scope per list item, without spaces)"
                        : this == SCOPE && value.indexOf('*') >= 0
                        ? "'" + value + "': wildcards are only allowed in scope.deny" : null;
                case HOST_RULE -> HOST_RULE_TEXT.matcher(value).matches() ? null
                        : "'" + raw + "' is not a host name or *.suffix rule"
                        + " (write chatgpt.com or *.example.com, without scheme, port or path)";
                case METRIC_LABEL -> FAMILY_NAME.matcher(value).matches() ? null
                        : "'" + value + "' must match [a-z0-9_.-]+ (it becomes a metric label)";
                case TOKEN -> TOKEN_TEXT.matcher(value).matches() ? null
                        : "'" + value + "' must be a single name of letters, digits, '.', '_', '~' or '-'";
            };
        }
    }
}
