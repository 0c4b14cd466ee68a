package dev.scopegate.proxy;

import dev.scopegate.proxy.upstream.UpstreamFailure.Kind;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RetryPolicyTest {

    @Test
    void aResetOfAReusedConnectionBeforeAnyResponseIsRetriedOnce() {
        assertThat(RetryPolicy.mayRetry(Kind.RESET, true, false, false, HttpMethod.GET, false, false)).isTrue();
        assertThat(RetryPolicy.mayRetry(Kind.RESET, true, true, false, HttpMethod.GET, false, false)).isFalse();
    }

    @Test
    void onlyAStaleKeepAliveConnectionBeforeTheHeadCounts() {
        assertThat(RetryPolicy.mayRetry(Kind.RESET, false, false, false, HttpMethod.GET, false, false)).isFalse();
        assertThat(RetryPolicy.mayRetry(Kind.RESET, true, false, true, HttpMethod.GET, false, false)).isFalse();
        assertThat(RetryPolicy.mayRetry(Kind.RESPONSE_TIMEOUT, true, false, false, HttpMethod.GET, false, false)).isFalse();
        assertThat(RetryPolicy.mayRetry(Kind.CONNECT_ERROR, true, false, false, HttpMethod.GET, false, false)).isFalse();
    }

    @Test
    void onlyIdempotentMethodsWithAReplayableBody() {
        assertThat(RetryPolicy.mayRetry(Kind.RESET, true, false, false, HttpMethod.POST, false, false)).isFalse();
        assertThat(RetryPolicy.mayRetry(Kind.RESET, true, false, false, HttpMethod.PATCH, false, false)).isFalse();
        assertThat(RetryPolicy.mayRetry(Kind.RESET, true, false, false, HttpMethod.PUT, true, false)).isFalse();
        assertThat(RetryPolicy.mayRetry(Kind.RESET, true, false, false, HttpMethod.PUT, true, true)).isTrue();
        for (HttpMethod m : new HttpMethod[]{HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS, HttpMethod.PUT,
                HttpMethod.DELETE, HttpMethod.TRACE}) {
            assertThat(RetryPolicy.idempotent(m)).as(m.name()).isTrue();
        }
    }
}
