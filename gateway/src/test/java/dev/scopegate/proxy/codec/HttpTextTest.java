package dev.scopegate.proxy.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The bytes of a message head are Netty's, whichever way a string is copied. */
class HttpTextTest {

    /** Netty's rule for header text: one byte per char, '?' above U+00FF. */
    private static byte[] reference(CharSequence text) {
        byte[] out = new byte[text.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = AsciiString.c2b(text.charAt(i));
        }
        return out;
    }

    private static byte[] written(CharSequence text) {
        ByteBuf buf = Unpooled.directBuffer(4);
        try {
            HttpText.writeAscii(text, buf);
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    @Property
    void anyStringIsOneBytePerCharLikeNetty(@ForAll @StringLength(max = 200) String text) {
        assertThat(written(text)).isEqualTo(reference(text));
    }

    @Property
    void latinOneTextOfAnyLengthIsCopiedByteForByte(
            @ForAll @StringLength(max = 300) @CharRange(from = 0, to = 0xFF) String text) {
        assertThat(written(text)).isEqualTo(text.getBytes(StandardCharsets.ISO_8859_1));
        assertThat(written(new AsciiString(text.getBytes(StandardCharsets.ISO_8859_1))))
                .isEqualTo(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void surrogatePairsInALongStringStayTwoQuestionMarks() {
        String text = "x".repeat(HttpText.ARRAY_COPY_FROM) + "\uD83D\uDE00" + "\u0100\n";
        assertThat(written(text)).isEqualTo(reference(text));
        assertThat(written(text)).hasSize(text.length());
    }

    @Property
    void headerBlocksAreNamesColonValuesCrlf(@ForAll @StringLength(max = 120) @CharRange(from = 0x20, to = 0x7E) String value) {
        HttpHeaders headers = new DefaultHttpHeaders(false)
                .add(HttpHeaderNames.LOCATION, value)
                .add("X-Long", value + value)
                .add(HttpHeaderNames.CONTENT_LENGTH, "0");
        ByteBuf buf = Unpooled.buffer();
        try {
            HttpText.writeHeaders(headers, buf);
            assertThat(buf.toString(StandardCharsets.ISO_8859_1))
                    .isEqualTo("location: " + value + "\r\nX-Long: " + value + value + "\r\ncontent-length: 0\r\n");
        } finally {
            buf.release();
        }
    }
}
