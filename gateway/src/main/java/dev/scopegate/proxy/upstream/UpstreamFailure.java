package dev.scopegate.proxy.upstream;

/**
 * Typed upstream faults, so the frontend maps them to 502/504 in one place.
 */
public final class UpstreamFailure extends RuntimeException {

    public enum Kind {
        /** Could not connect (refused, unreachable, DNS, TLS handshake). → 502 */
        CONNECT_ERROR,
        /** No connection became available in time. → 503 */
        POOL_EXHAUSTED,
        /** Connect did not complete in time. → 504 */
        CONNECT_TIMEOUT,
        /** The connection closed or reset. → 502 before a response, abort after. */
        RESET,
        /** The response could not be decoded. → 502 */
        BAD_RESPONSE,
        /** No first response byte in time. → 504 */
        RESPONSE_TIMEOUT
    }

    private final Kind kind;

    public UpstreamFailure(Kind kind, String message, Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
