package dev.scopegate.oauth.scope;

/** A fact the resolver cannot obtain itself; the caller fetches it asynchronously and asks again. */
public enum Fact {
    /** The client's {@link dev.scopegate.model.Registration} (store/cache). Feeds {@code registered}, {@code learned} and {@code reject}. */
    REGISTRATION,
    /** The {@code scopes_supported} of the protected resource named by {@code resource} (RFC 9728). */
    RESOURCE_METADATA,
    /** The {@code scope} of the Client ID Metadata Document an {@code https} {@code client_id} names. */
    DOCUMENT
}
