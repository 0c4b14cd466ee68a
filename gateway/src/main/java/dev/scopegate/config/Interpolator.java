package dev.scopegate.config;

import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Expands environment references in one scalar string value, with the shell's (and Docker
 * Compose's) meaning:
 *
 * <ul>
 *   <li>{@code ${NAME}}: the variable's value; an error when it is unset.
 *   <li>{@code ${NAME:-default}}: {@code default} when the variable is unset <em>or empty</em>.
 *   <li>{@code ${NAME-default}}: {@code default} only when the variable is unset (an empty value stays empty).
 *   <li>{@code ${NAME:default}}: scopegate's older form, kept: the same as {@code ${NAME-default}}
 *       (the default only when unset). A default that itself starts with {@code -} cannot be
 *       written this way, since {@code ${NAME:-x}} is the shell form.
 * </ul>
 *
 * A default is literal text up to the first {@code '}'} (no nested references). A doubled dollar
 * ({@code $${x}}) stands for a literal dollar-brace ({@code ${x}}). Works on already-parsed
 * values, so whatever an environment variable holds stays a single string and can never add keys
 * or change the YAML structure. Thread-safe if the environment lookup is.
 */
final class Interpolator {

    private static final Pattern REFERENCE = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)(:-|-|:)?(.*)", Pattern.DOTALL);

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
        Matcher m = REFERENCE.matcher(reference);
        if (!m.matches() || (m.group(2) == null && !m.group(3).isEmpty())) {
            throw new IllegalArgumentException("'${" + reference + "}' is not a valid variable reference"
                    + " (use ${NAME}, ${NAME:-default}, ${NAME-default} or ${NAME:default})");
        }
        String name = m.group(1);
        String operator = m.group(2);
        String dflt = m.group(3);
        String value = env.apply(name);
        if (operator == null) {
            if (value == null) {
                throw new IllegalArgumentException("environment variable " + name + " is not set"
                        + " (set it, or give a default: ${" + name + ":-default})");
            }
            return value;
        }
        if (value == null || (operator.equals(":-") && value.isEmpty())) {
            return dflt;
        }
        return value;
    }
}
