package dev.scopegate.oauth;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A small asynchronous HTTP GET client for documents scopegate fetches itself (IdP metadata,
 * protected-resource metadata, client ID metadata documents). Implementations never block the
 * caller and complete the future on their own threads.
 */
public interface HttpFetcher {

    /**
     * GETs {@code uri} with the extra request {@code headers} (a {@code Host} entry replaces the
     * one derived from the URI). Completes exceptionally on connect/read failure, on timeout
     * (connect + whole response within {@code timeout}) and when the body exceeds
     * {@code maxBytes} ({@link BodyTooLargeException}). Any status completes normally.
     */
    CompletableFuture<Response> get(URI uri, Map<String, String> headers, int maxBytes, Duration timeout);

    /** A complete response. Header names are lower-case; a header may repeat. */
    record Response(int status, Map<String, List<String>> headers, byte[] body) {
        public String header(String lowerCaseName) {
            List<String> v = headers.get(lowerCaseName);
            return v == null || v.isEmpty() ? null : v.get(0);
        }
    }

    /** The response body was larger than allowed. */
    final class BodyTooLargeException extends RuntimeException {
        public BodyTooLargeException(String message) {
            super(message, null, false, false);
        }
    }
}
