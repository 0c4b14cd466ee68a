package dev.scopegate.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The obs-fold scanner of the strict request decoder, against a byte-by-byte reference. */
class FoldScannerTest {

    /**
     * The scanner's contract, one byte at a time over the whole input: the first implementation,
     * kept as the oracle (called once: given a region ending inside a line it would take a rescan
     * of that line for a new one).
     */
    private static final class Reference {
        boolean fold;
        boolean done;
        boolean sawContent;

        void scan(byte[] b, int from, int to) {
            if (done || fold) {
                return;
            }
            byte prev = sawContent ? (byte) '\n' : 0;
            int lineLength = 0;
            for (int i = from; i < to; i++) {
                if (prev == '\n' && (b[i] == ' ' || b[i] == '\t') && sawContent) {
                    fold = true;
                    return;
                }
                if (b[i] == '\n') {
                    if (lineLength == 0 && sawContent) {
                        done = true;
                        return;
                    }
                    lineLength = 0;
                } else if (b[i] != '\r') {
                    lineLength++;
                    sawContent = true;
                }
                prev = b[i];
            }
        }
    }

    @Provide
    Arbitrary<String> headerish() {
        return Arbitraries.strings().withChars('a', ':', ' ', '\t', '\r', '\n').ofMaxLength(80);
    }

    @Property(tries = 3000)
    void findsWhatTheReferenceFinds(@ForAll("headerish") String text) {
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        Reference ref = new Reference();
        ServerHttpCodec.FoldScanner scanner = new ServerHttpCodec.FoldScanner();
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        // as the decoder calls it: from the start of the unconsumed region (complete lines are
        // consumed), as the bytes arrive one at a time
        ref.scan(bytes, 0, bytes.length);
        int consumed = 0;
        for (int end = 1; end <= bytes.length; end++) {
            scanner.scan(buf, consumed, end);
            if (bytes[end - 1] == '\n') {
                consumed = end; // a complete line: the decoder consumes it
            }
        }
        assertThat(scanner.foldSeen()).as("fold in %s", text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t"))
                .isEqualTo(ref.fold);
    }

    @Test
    void foldAfterAHeaderLineIsFound() {
        ServerHttpCodec.FoldScanner scanner = new ServerHttpCodec.FoldScanner();
        byte[] b = "GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        scanner.scan(Unpooled.wrappedBuffer(b), 0, b.length);
        assertThat(scanner.foldSeen()).isTrue();
    }

    @Test
    void aFoldLikeLineInTheBodyIsNotAFold() {
        ServerHttpCodec.FoldScanner scanner = new ServerHttpCodec.FoldScanner();
        byte[] b = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n\r\n abc".getBytes(StandardCharsets.ISO_8859_1);
        scanner.scan(Unpooled.wrappedBuffer(b), 0, b.length);
        assertThat(scanner.foldSeen()).isFalse();
    }

    @Test
    void leadingEmptyLinesBeforeTheRequestLineAreNotTheEnd() {
        ServerHttpCodec.FoldScanner scanner = new ServerHttpCodec.FoldScanner();
        byte[] b = "\r\n\r\nGET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        scanner.scan(Unpooled.wrappedBuffer(b), 0, b.length);
        assertThat(scanner.foldSeen()).isTrue();
    }
}
