package dev.scopegate.proxy;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpLineException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RequestGateTest {

    private static HttpRequest get(HttpVersion version, String uri, String... headers) {
        HttpRequest r = new DefaultHttpRequest(version, HttpMethod.GET, uri);
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    private static String reason(HttpRequest r) {
        RequestGate.Refusal refusal = RequestGate.check(r);
        return refusal == null ? null : refusal.status().code() + " " + refusal.reason();
    }

    @Test
    void anOrdinaryRequestPasses() {
        assertThat(reason(get(HttpVersion.HTTP_1_1, "/a?b=c", "Host", "idp"))).isNull();
        assertThat(reason(get(HttpVersion.HTTP_1_0, "/a"))).isNull(); // HTTP/1.0 needs no Host
    }

    @Test
    void versionHostAndMethodAreChecked() {
        assertThat(reason(get(HttpVersion.valueOf("HTTP/2.0"), "/", "Host", "idp"))).isEqualTo("505 version");
        assertThat(reason(get(HttpVersion.HTTP_1_1, "/"))).isEqualTo("400 host");
        assertThat(reason(get(HttpVersion.HTTP_1_1, "/", "Host", "a", "Host", "b"))).isEqualTo("400 host");
        assertThat(reason(get(HttpVersion.HTTP_1_0, "/", "Host", "a", "Host", "b"))).isEqualTo("400 host");
        HttpRequest connect = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.CONNECT, "/");
        connect.headers().set(HttpHeaderNames.HOST, "idp");
        assertThat(reason(connect)).isEqualTo("405 method");
    }

    @Test
    void targetBytesAndFormsAreChecked() {
        assertThat(reason(get(HttpVersion.HTTP_1_1, "/a%zz", "Host", "idp"))).isEqualTo("400 target");
        assertThat(reason(get(HttpVersion.HTTP_1_1, "/a#f", "Host", "idp"))).isEqualTo("400 target");
        assertThat(reason(get(HttpVersion.HTTP_1_1, "*", "Host", "idp"))).isEqualTo("400 target");
        assertThat(reason(get(HttpVersion.HTTP_1_1, "ftp://x/a", "Host", "idp"))).isEqualTo("400 target");
        assertThat(reason(get(HttpVersion.HTTP_1_1, "http://u@x/a", "Host", "idp"))).isEqualTo("400 target");
    }

    @Test
    void absoluteFormBecomesOriginFormWithItsAuthorityAsHost() {
        HttpRequest r = get(HttpVersion.HTTP_1_1, "HTTP://idp.example:8080?x=1", "Host", "other");
        assertThat(RequestGate.check(r)).isNull();
        assertThat(r.uri()).isEqualTo("/?x=1");
        assertThat(r.headers().get(HttpHeaderNames.HOST)).isEqualTo("idp.example:8080");
    }

    @Test
    void onlyHundredContinueIsExpected() {
        assertThat(reason(get(HttpVersion.HTTP_1_1, "/", "Host", "idp", "Expect", "x-magic"))).isEqualTo("417 expectation");
        HttpRequest ok = get(HttpVersion.HTTP_1_1, "/", "Host", "idp", "Expect", "100-Continue");
        assertThat(reason(ok)).isNull();
        assertThat(RequestGate.takeExpectContinue(ok)).isTrue();
        assertThat(ok.headers().contains(HttpHeaderNames.EXPECT)).isFalse();
        HttpRequest old = get(HttpVersion.HTTP_1_0, "/", "Expect", "whatever");
        assertThat(reason(old)).isNull(); // HTTP/1.0: Expect is ignored (RFC 9110 §10.1.1) and dropped
        assertThat(RequestGate.takeExpectContinue(old)).isFalse();
        assertThat(old.headers().contains(HttpHeaderNames.EXPECT)).isFalse();
    }

    @Test
    void decoderFailuresAreMapped() {
        HttpRequest r = get(HttpVersion.HTTP_1_1, "/bad");
        r.setDecoderResult(DecoderResult.failure(new TooLongHttpLineException("long")));
        assertThat(reason(r)).isEqualTo("414 uri-too-long");
        r.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("junk")));
        assertThat(reason(r)).isEqualTo("400 malformed");
    }
}
