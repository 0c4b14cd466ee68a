package dev.scopegate.config;

import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Expands {@code ${NAME}} and {@code ${NAME:default}} in one scalar string value; a doubled
 * dollar ({@code $${x}}) stands for a literal dollar-brace ({@code ${x}}). Works on already-parsed values, so whatever an environment
 * variable holds stays a single string and can never add keys or change the YAML structure.
 * Thread-safe if the environment lookup is.
 */
final class Interpolator {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final Function<String, String> env;

    Interpolator(Function<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
    }

    /**
     * @throws IllegalArgumentException naming the variable when it is unset and has no default,
     *         or when a reference is malformed
     */
    String expand(String text) {
        if (text.indexOf('$') < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '$' && text.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (c == '$' && text.startsWith("${", i)) {
                int close = text.indexOf('}', i + 2);
                if (close < 0) {
                    throw new IllegalArgumentException("unclosed '${' in value (write '$${' for a literal '${')");
                }
                out.append(resolve(text.substring(i + 2, close)));
                i = close + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private String resolve(String reference) {
        int colon = reference.indexOf(':');
        String name = colon < 0 ? reference : reference.substring(0, colon);
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("'${" + reference + "}' is not a valid variable reference"
                    + " (use ${NAME} or ${NAME:default})");
        }
        String value = env.apply(name);
        if (value != null) {
            return value;
        }
        if (colon < 0) {
            throw new IllegalArgumentException("environment variable " + name + " is not set"
                    + " (set it, or give a default: ${" + name + ":default})");
        }
        return reference.substring(colon + 1);
    }
}
