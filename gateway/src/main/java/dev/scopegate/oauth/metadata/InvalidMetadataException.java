package dev.scopegate.oauth.metadata;

/** A fetched metadata document cannot be used: not a JSON object, or without an {@code issuer}. */
public final class InvalidMetadataException extends RuntimeException {
    public InvalidMetadataException(String message) {
        super(message);
    }

    public InvalidMetadataException(String message, Throwable cause) {
        super(message, cause);
    }
}
