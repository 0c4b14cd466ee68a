package dev.scopegate.oauth.document;

import dev.scopegate.oauth.HttpFetcher;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * In-test {@link HttpFetcher} for caching logic: answers at once (on the caller's thread) from a
 * function of the URI, or returns a future the test completes, and records every request.
 */
final class FakeFetcher implements HttpFetcher {

    record Call(URI uri, Map<String, String> headers, int maxBytes, Duration timeout) {}

    final List<Call> calls = new CopyOnWriteArrayList<>();
    final Map<URI, CompletableFuture<Response>> pending = new ConcurrentHashMap<>();
    private volatile Function<URI, CompletableFuture<Response>> answer = uri -> pending.computeIfAbsent(uri, u -> new CompletableFuture<>());

    void answer(Function<URI, CompletableFuture<Response>> answer) {
        this.answer = answer;
    }

    void answerJson(int status, String body, Map<String, List<String>> headers) {
        answer(uri -> CompletableFuture.completedFuture(response(status, body, headers)));
    }

    static Response response(int status, String body, Map<String, List<String>> headers) {
        return new Response(status, headers, body.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public CompletableFuture<Response> get(URI uri, Map<String, String> headers, int maxBytes, Duration timeout) {
        calls.add(new Call(uri, headers, maxBytes, timeout));
        return answer.apply(uri);
    }
}
