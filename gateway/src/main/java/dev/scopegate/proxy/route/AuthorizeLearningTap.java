package dev.scopegate.proxy.route;

import dev.scopegate.oauth.OAuthParams;
import dev.scopegate.oauth.ParamCodec;
import dev.scopegate.oauth.Params;
import dev.scopegate.oauth.PendingScopes;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Remembers the scope a client asked for at the authorization endpoint when the IdP did not
 * reject the request at once (a 2xx login/consent page, or a redirect without {@code error}); it
 * becomes the client's learned scope when the same PKCE flow completes at the token endpoint
 * ({@link TokenLearningRoute}). Observes the head only. One per request; event loop.
 */
record AuthorizeLearningTap(PendingScopes pending, String clientId, String codeChallenge, String scope)
        implements ResponseTap {

    @Override
    public int onHead(HttpResponse head) {
        int code = head.status().code();
        boolean accepted = code >= 200 && code < 300;
        if (code >= 300 && code < 400) {
            String location = head.headers().get(HttpHeaderNames.LOCATION);
            accepted = location == null || !hasErrorParam(location);
        }
        if (accepted) {
            pending.remember(clientId, codeChallenge, scope);
        }
        return 0;
    }

    @Override
    public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
        return CompletableFuture.completedFuture(null);
    }

    static boolean hasErrorParam(String location) {
        int q = location.indexOf('?');
        if (q < 0) {
            return false;
        }
        int hash = location.indexOf('#', q);
        Params p = ParamCodec.parse(location.substring(q + 1, hash < 0 ? location.length() : hash));
        return p.count(OAuthParams.ERROR) > 0;
    }
}
