package dev.scopegate.proxy;

import dev.scopegate.proxy.upstream.UpstreamFailure;
import io.netty.handler.codec.http.HttpMethod;

/**
 * When a failed upstream attempt is tried once more on another connection: a reset of a reused
 * keep-alive connection (it went stale while idle), before any response head, for an idempotent
 * method (RFC 9110 §9.2.2) whose body, if any, is held whole so it can be sent again. Stateless.
 */
final class RetryPolicy {

    private RetryPolicy() {
    }

    static boolean mayRetry(UpstreamFailure.Kind kind, boolean reusedConnection, boolean alreadyRetried,
                            boolean responseHeadSeen, HttpMethod method, boolean requestHasBody, boolean bodyReplayable) {
        return kind == UpstreamFailure.Kind.RESET && reusedConnection && !alreadyRetried && !responseHeadSeen
                && idempotent(method) && (!requestHasBody || bodyReplayable);
    }

    static boolean idempotent(HttpMethod m) {
        return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS)
                || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.DELETE) || m.equals(HttpMethod.TRACE);
    }
}
