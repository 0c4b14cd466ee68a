package dev.scopegate.proxy.upstream;

/**
 * Typed upstream faults, so the frontend maps them to 502/504 in one place.
 */
public final class UpstreamFailure extends RuntimeException {

    public enum Kind {
        /** Could not connect (refused, unreachable, DNS, TLS handshake). → 502 */
        CONNECT_ERROR("connect_error"),
        /** No connection became available in time. → 503 */
        POOL_EXHAUSTED("pool_exhausted"),
        /** Connect did not complete in time. → 504 */
        CONNECT_TIMEOUT("connect_timeout"),
        /** The connection closed or reset. → 502 before a response, abort after. */
        RESET("reset"),
        /** The response could not be decoded. → 502 */
        BAD_RESPONSE("bad_response"),
        /** No first response byte in time. → 504 */
        RESPONSE_TIMEOUT("response_timeout"),
        /**
         * Silent mid-response (after the head) for longer than the read timeout. → 504 while
         * nothing was relayed yet (a captured body), abort after.
         */
        READ_TIMEOUT("read-timeout");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** The {@code kind} label of {@code scopegate_upstream_errors_total}. */
        public String label() {
            return label;
        }
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
