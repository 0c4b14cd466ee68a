package dev.scopegate.oauth.document;

import dev.scopegate.oauth.HttpFetcher;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

/**
 * Test-only {@link HttpFetcher} on the JDK's HttpClient: no redirects, body capped while it
 * streams. A {@code Host} header is ignored (the JDK client restricts it).
 */
final class JdkHttpFetcher implements HttpFetcher {

    private final HttpClient client = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    @Override
    public CompletableFuture<Response> get(URI uri, Map<String, String> headers, int maxBytes, Duration timeout) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).GET();
        headers.forEach((name, value) -> {
            if (!name.equalsIgnoreCase("host")) {
                request.header(name, value);
            }
        });
        return client.sendAsync(request.build(), info -> new CappedBody(maxBytes))
                .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(r -> {
                    Map<String, List<String>> lower = new TreeMap<>();
                    r.headers().map().forEach((k, v) -> lower.computeIfAbsent(k.toLowerCase(Locale.ROOT),
                            x -> new ArrayList<>()).addAll(v));
                    return new Response(r.statusCode(), lower, r.body());
                });
    }

    private static final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final int maxBytes;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        CappedBody(int maxBytes) {
            this.maxBytes = maxBytes;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer b : buffers) {
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                bytes.write(chunk, 0, chunk.length);
            }
            if (bytes.size() > maxBytes && !result.isDone()) {
                subscription.cancel();
                result.completeExceptionally(new BodyTooLargeException("body over " + maxBytes + " bytes"));
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(bytes.toByteArray());
        }
    }
}
