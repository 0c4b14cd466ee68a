package dev.scopegate.proxy.codec;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes the text of an HTTP/1.1 message head into a buffer: the bytes Netty's encoders write
 * for header names and values (one byte per character, {@code '?'} for every character above
 * U+00FF), used for the request target too (see {@code ClientHttpCodec}), but a long
 * {@link String} is copied as an array instead of character by character. An authorization request's target and the upstream's {@code Location} run to
 * several hundred characters, and Netty's per-character loop was the biggest part of encoding them.
 */
public final class HttpText {

    /** Shorter strings (most header values) are written character by character, without an allocation. */
    static final int ARRAY_COPY_FROM = 48;

    private static final short COLON_SP = (short) ((':' << 8) | ' ');
    private static final short CRLF = (short) (('\r' << 8) | '\n');

    private HttpText() {
    }

    /** Every field line of {@code headers}, in order, each ending in CRLF. */
    public static void writeHeaders(HttpHeaders headers, ByteBuf buf) {
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> field = it.next();
            writeField(field.getKey(), field.getValue(), buf);
        }
    }

    static void writeField(CharSequence name, CharSequence value, ByteBuf buf) {
        buf.ensureWritable(name.length() + value.length() + 4);
        writeAscii(name, buf);
        buf.writeShort(COLON_SP);
        writeAscii(value, buf);
        buf.writeShort(CRLF);
    }

    /** {@code text} as US-ASCII, {@code '?'} for what is above U+00FF (Netty's {@code AsciiString.c2b}). */
    public static void writeAscii(CharSequence text, ByteBuf buf) {
        if (text instanceof AsciiString ascii) {
            buf.writeBytes(ascii.array(), ascii.arrayOffset(), ascii.length());
        } else if (text instanceof String s && s.length() >= ARRAY_COPY_FROM) {
            byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
            if (bytes.length == s.length()) {
                buf.writeBytes(bytes);
            } else { // a surrogate pair became one '?': keep one byte per character
                buf.writeCharSequence(s, StandardCharsets.US_ASCII);
            }
        } else {
            buf.writeCharSequence(text, StandardCharsets.US_ASCII);
        }
    }
}
