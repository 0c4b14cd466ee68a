package dev.scopegate.store;

/**
 * How a {@link RegistrationStore} fails a future: the store could not do what was asked (I/O
 * error, closed store, unreadable document). The message names the operation and never quotes a
 * stored document.
 */
public final class StoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }
}
