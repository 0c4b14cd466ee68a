package dev.scopegate.oauth.metadata;

/**
 * No IdP metadata is cached and the fetch made to get some failed. The message names each
 * location tried and why it failed (connection, status, parse error); it holds no secrets.
 */
public final class MetadataUnavailableException extends RuntimeException {
    public MetadataUnavailableException(String message) {
        super(message, null, false, false);
    }
}
