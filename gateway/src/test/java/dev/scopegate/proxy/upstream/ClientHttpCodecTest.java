package dev.scopegate.proxy.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The upstream codec's own rules (request line bytes, bodies of responses to HEAD); everything
 * else is Netty's, and the proxy tests cover it over real sockets.
 */
class ClientHttpCodecTest {

    private final EmbeddedChannel channel = new EmbeddedChannel();

    {
        ClientHttpCodec.addTo(channel.pipeline(), new HttpDecoderConfig());
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private String sent() {
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = channel.readOutbound()) != null) {
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return out.toString();
    }

    private void request(HttpMethod method, String target) {
        DefaultFullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, target, Unpooled.EMPTY_BUFFER, false);
        r.headers().set("Host", "idp.example");
        channel.writeOutbound(r);
    }

    private void receive(String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    @Test
    void theTargetIsWrittenOneBytePerCharWhateverItsLength() {
        String shortTarget = "/a?\u00e9";
        String longTarget = "/oauth/authorize?state=" + "s".repeat(300) + "&x=\u00c3\u00a9";
        request(HttpMethod.GET, shortTarget);
        request(HttpMethod.POST, longTarget);
        assertThat(sent()).isEqualTo("GET " + shortTarget + " HTTP/1.1\r\nHost: idp.example\r\n\r\n"
                + "POST " + longTarget + " HTTP/1.1\r\nHost: idp.example\r\n\r\n");
    }

    @Test
    void anAbsoluteTargetStillGetsItsPath() {
        request(HttpMethod.OPTIONS, "*");
        request(HttpMethod.GET, "http://idp.example?x=1");
        assertThat(sent()).startsWith("OPTIONS * HTTP/1.1\r\n").contains("GET http://idp.example/?x=1 HTTP/1.1\r\n");
    }

    @Test
    void aResponseToHeadHasNoBodyAndTheNextResponseIsReadWhole() {
        request(HttpMethod.HEAD, "/doc");
        request(HttpMethod.GET, "/doc");
        receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                + "HTTP/1.1 100 Continue\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        HttpResponse head = channel.readInbound();
        assertThat(head.status().code()).isEqualTo(200);
        LastHttpContent none = channel.readInbound();
        assertThat(none.content().readableBytes()).isZero();
        none.release();
        HttpResponse informational = channel.readInbound();
        assertThat(informational.status().code()).isEqualTo(100);
        LastHttpContent end100 = channel.readInbound();
        end100.release();
        HttpResponse second = channel.readInbound();
        assertThat(second.headers().get("Content-Length")).isEqualTo("5");
        StringBuilder body = new StringBuilder();
        Object m;
        while ((m = channel.readInbound()) != null) {
            body.append(((HttpContent) m).content().toString(StandardCharsets.ISO_8859_1));
            ((HttpContent) m).release();
        }
        assertThat(body).hasToString("hello");
    }
}
