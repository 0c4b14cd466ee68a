package dev.scopegate.oauth.scope;

import java.util.Objects;

/**
 * How to answer an unresolved request under {@code on-unresolved: reject}. Immutable records; safe
 * to share across threads.
 */
public sealed interface Rejection permits Rejection.Redirect, Rejection.Page {

    /**
     * Answer {@code 302 Found} with {@code Location: location}: an RFC 6749 §4.1.2.1 error response
     * to a {@code redirect_uri} the client registered. {@code location} is ready to use as is.
     */
    record Redirect(String location) implements Rejection {
        public Redirect {
            Objects.requireNonNull(location, "location");
        }
    }

    /**
     * Answer {@code 400 Bad Request} with this short plain-text {@code message}. It never echoes
     * request values, so it is safe in any page.
     */
    record Page(String message) implements Rejection {
        public Page {
            Objects.requireNonNull(message, "message");
        }
    }
}
