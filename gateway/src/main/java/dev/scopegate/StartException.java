package dev.scopegate;

/**
 * The gateway cannot start: a config it refuses ({@link StartChecks}) or a listener that cannot
 * bind. The message is one line an operator can act on, with no stack trace worth showing.
 */
public final class StartException extends IllegalStateException {

    public StartException(String message) {
        super(message);
    }

    public StartException(String message, Throwable cause) {
        super(message, cause);
    }
}
