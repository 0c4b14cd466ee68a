package dev.scopegate.proxy.route;

import dev.scopegate.oauth.BearerChallenges;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.AsciiString;

import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Completes the {@code Bearer} challenges of a protected resource's 401 and 403 answers
 * ({@link BearerChallenges#complete}) in the response head, in place: each {@code WWW-Authenticate}
 * field keeps its position among the others, and only a field whose value changes is rewritten.
 * Captures nothing ({@link #onHead} returns 0). Immutable, shared by every request of its resource;
 * called on the event loop.
 */
final class ChallengeTap implements ResponseTap {

    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final String resourceMetadata;
    private final /* nullable */ String scope;

    /**
     * @param resourceMetadata the URL of the resource's RFC 9728 document
     * @param scope            its {@code scopes_supported}, space-separated; null or empty: none
     */
    ChallengeTap(String resourceMetadata, /* nullable */ String scope) {
        this.resourceMetadata = Objects.requireNonNull(resourceMetadata, "resourceMetadata");
        this.scope = scope == null || scope.isEmpty() ? null : scope;
    }

    @Override
    public int onHead(HttpResponse head) {
        int code = head.status().code();
        if (code != 401 && code != 403) {
            return 0;
        }
        BearerChallenges.Status status = code == 401 ? BearerChallenges.Status.UNAUTHORIZED
                : BearerChallenges.Status.FORBIDDEN;
        HttpHeaders headers = head.headers();
        if (!headers.contains(HttpHeaderNames.WWW_AUTHENTICATE)) {
            return 0;
        }
        Iterator<Map.Entry<CharSequence, CharSequence>> fields = headers.iteratorCharSequence();
        while (fields.hasNext()) {
            Map.Entry<CharSequence, CharSequence> field = fields.next();
            if (AsciiString.contentEqualsIgnoreCase(field.getKey(), HttpHeaderNames.WWW_AUTHENTICATE)) {
                String value = field.getValue().toString();
                String completed = BearerChallenges.complete(value, status, resourceMetadata, scope);
                if (completed != value) {
                    field.setValue(completed);
                }
            }
        }
        return 0;
    }

    @Override
    public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
        return DONE; // never called: onHead captures nothing
    }

    String resourceMetadata() {
        return resourceMetadata;
    }

    /* nullable */ String scope() {
        return scope;
    }
}
