package dev.scopegate.proxy;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The hop-by-hop filter on plain header maps; the socket-level view is in {@code HeaderForwardingTest}. */
class HopByHopHeadersTest {

    @Test
    void everyHopByHopNameIsFoundInAnyCase() {
        for (String name : new String[]{"connection", "Keep-Alive", "PROXY-CONNECTION", "te", "Trailer",
                "transfer-encoding", "Upgrade"}) {
            assertThat(HopByHopHeaders.isAlways(name)).as(name).isTrue();
        }
        for (String name : new String[]{"tf", "trailed", "connectioN2", "keep-alivf", "content-length", "host",
                "x-forwarded-for", "", "upgrade-insecure-requests"}) {
            assertThat(HopByHopHeaders.isAlways(name)).as(name).isFalse();
        }
    }

    @Test
    void messagesWithoutHopByHopHeadersAreLeftAsTheyAre() {
        HttpHeaders h = new DefaultHttpHeaders().add("Host", "a").add("Accept", "*/*").add("X-Custom", "1");
        HopByHopHeaders.strip(h);
        assertThat(h.names()).containsExactlyInAnyOrder("Host", "Accept", "X-Custom");
    }

    @Test
    void headersNamedInConnectionGoWithTheFixedOnesButNeverHostOrContentLength() {
        HttpHeaders h = new DefaultHttpHeaders().add("Host", "a").add("Content-Length", "3")
                .add("Connection", "x-secret, host , Content-Length").add("X-Secret", "s").add("TE", "trailers")
                .add("Accept", "*/*");
        HopByHopHeaders.strip(h);
        assertThat(h.names()).containsExactlyInAnyOrder("Host", "Content-Length", "Accept");
    }

    @Test
    void aConnectionHeaderAloneStillStripsWhatItNames() {
        HttpHeaders h = new DefaultHttpHeaders().add("connection", "close, x-a").add("x-a", "1").add("x-b", "2");
        HopByHopHeaders.strip(h);
        assertThat(h.names()).containsExactly("x-b");
    }
}
