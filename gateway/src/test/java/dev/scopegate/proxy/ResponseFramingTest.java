package dev.scopegate.proxy;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import static dev.scopegate.proxy.ResponseFraming.CLOSE_AFTER;
import static dev.scopegate.proxy.ResponseFraming.CLOSE_DELIMITED;
import static org.assertj.core.api.Assertions.assertThat;

class ResponseFramingTest {

    private static HttpResponse head(int status, String... headers) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    @Test
    void aLengthIsKeptAndTheConnectionStays() {
        HttpResponse r = head(200, "Content-Length", "5", "Keep-Alive", "timeout=5");
        assertThat(ResponseFraming.prepare(r, false, false, true, false)).isZero();
        assertThat(r.headers().contains("Keep-Alive")).isFalse(); // hop-by-hop
        assertThat(r.headers().contains(HttpHeaderNames.CONNECTION)).isFalse();
    }

    @Test
    void aCloseDelimitedBodyIsChunkedForAKeepAliveHttp11Client() {
        HttpResponse r = head(200);
        assertThat(ResponseFraming.prepare(r, false, false, true, false)).isZero();
        assertThat(r.headers().get(HttpHeaderNames.TRANSFER_ENCODING)).isEqualTo("chunked");
    }

    @Test
    void aCloseDelimitedBodyStaysSoWhenTheClientCloses() {
        HttpResponse r = head(200);
        assertThat(ResponseFraming.prepare(r, false, false, false, false)).isEqualTo(CLOSE_AFTER | CLOSE_DELIMITED);
        assertThat(r.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
    }

    @Test
    void http10ClientsGetNoChunkingAndAKeepAliveHeader() {
        HttpResponse chunked = head(200, "Transfer-Encoding", "chunked");
        assertThat(ResponseFraming.prepare(chunked, false, true, true, false)).isEqualTo(CLOSE_AFTER | CLOSE_DELIMITED);
        assertThat(chunked.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_0);
        assertThat(chunked.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
        assertThat(chunked.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");

        HttpResponse sized = head(200, "Content-Length", "3");
        assertThat(ResponseFraming.prepare(sized, false, true, true, false)).isZero();
        assertThat(sized.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("keep-alive");
    }

    @Test
    void bodylessResponsesNeedNoFraming() {
        for (int status : new int[]{204, 304}) {
            HttpResponse r = head(status);
            assertThat(ResponseFraming.prepare(r, false, false, true, false)).isZero();
            assertThat(r.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
        }
        HttpResponse toHead = head(200);
        assertThat(ResponseFraming.prepare(toHead, true, false, true, false)).isZero();
        assertThat(toHead.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
    }

    @Test
    void closeAnywayClosesAndSaysSo() {
        HttpResponse r = head(200, "Content-Length", "1");
        assertThat(ResponseFraming.prepare(r, false, false, true, true)).isEqualTo(CLOSE_AFTER);
        assertThat(r.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
    }

    @Test
    void localResponsesGetALength() {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(new byte[7]));
        try {
            assertThat(ResponseFraming.prepareLocal(r, true, true, false)).isZero();
            assertThat(r.headers().get(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo("7");
            assertThat(r.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_0);
            assertThat(r.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("keep-alive");
            assertThat(ResponseFraming.prepareLocal(r, false, false, false)).isEqualTo(CLOSE_AFTER);
        } finally {
            r.release();
        }
    }

    @Test
    void anAggregatedLengthReplacesChunkingExceptWhereNoBodyIsAllowed() {
        HttpResponse r = head(200, "Transfer-Encoding", "chunked");
        ResponseFraming.setAggregatedLength(r, false, 12);
        assertThat(r.headers().get(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo("12");
        assertThat(r.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
        HttpResponse noContent = head(204);
        ResponseFraming.setAggregatedLength(noContent, false, 0);
        assertThat(noContent.headers().contains(HttpHeaderNames.CONTENT_LENGTH)).isFalse();
        HttpResponse toHead = head(200, "Content-Length", "99");
        ResponseFraming.setAggregatedLength(toHead, true, 0);
        assertThat(toHead.headers().get(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo("99");
    }
}
