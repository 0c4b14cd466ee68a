package dev.scopegate.proxy;

import dev.scopegate.proxy.codec.HttpText;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ByteProcessor;

import java.util.ArrayDeque;
import java.util.List;

/**
 * The client-side HTTP/1.1 codec: Netty's request decoder made strict where a proxy must be
 * (RFC 9112), and a response encoder that knows which responses answer {@code HEAD}.
 *
 * <p>Sits first in the client pipeline (after TLS). Strictness added to Netty's decoder:
 * <ul>
 *   <li>{@code Content-Length} with {@code Transfer-Encoding} is a decoding failure (RFC 9112 §6.1),
 *       not "drop Content-Length";</li>
 *   <li>obsolete line folding (a header line starting with SP or HTAB, RFC 9112 §5.2) is a
 *       decoding failure: Netty would silently join the lines;</li>
 *   <li>bare LF line endings are refused (strict line parsing).</li>
 * </ul>
 * Failures surface as a message whose {@link DecoderResult} failed; the frontend answers 400.
 *
 * <p>Decoder and encoder are two handlers of the pipeline, not one
 * {@code CombinedChannelDuplexHandler}: every read, write and flush of an exchange would pass
 * through its delegating contexts. One pair per connection; event-loop confined.
 */
final class ServerHttpCodec {

    /** A header block used obsolete line folding. */
    static final class ObsFoldException extends IllegalArgumentException {
        ObsFoldException() {
            super("obsolete line folding in header section");
        }
    }

    private ServerHttpCodec() {
    }

    /** Adds the decoder ({@code http-decoder}) and the encoder ({@code http-encoder}) to {@code p}. */
    static void addTo(ChannelPipeline p, int maxInitialLine, int maxHeaderBytes, int maxChunkSize) {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);
        HttpDecoderConfig config = new HttpDecoderConfig()
                .setMaxInitialLineLength(maxInitialLine)
                .setMaxHeaderSize(maxHeaderBytes)
                .setMaxChunkSize(maxChunkSize)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true)
                .setAllowDuplicateContentLengths(false);
        p.addLast("http-decoder", new StrictRequestDecoder(config, methods));
        p.addLast("http-encoder", new HeadAwareEncoder(methods));
    }

    /** Request decoder that additionally rejects obs-fold (see the class comment). */
    static final class StrictRequestDecoder extends HttpRequestDecoder {
        private final ArrayDeque<HttpMethod> methods;
        /** True while the bytes ahead belong to a header section (start of a message). */
        private boolean inHeaderSection = true;
        private final FoldScanner scanner = new FoldScanner();

        StrictRequestDecoder(HttpDecoderConfig config, ArrayDeque<HttpMethod> methods) {
            super(config);
            this.methods = methods;
        }

        /**
         * Netty's request, without its check of the target for SP, CR and LF, which cannot be
         * there: the line was split at whitespace and ended at the line break. The check ran on
         * every request and again on every {@code setUri}, each a loop over a target that for an
         * authorization request runs to hundreds of characters; the gateway's own targets are
         * the client's, cut (absolute-form) or with a percent-encoded scope added.
         */
        @Override
        protected HttpMessage createMessage(String[] initialLine) throws Exception {
            String v = initialLine[2];
            HttpVersion version = v.equals("HTTP/1.1") ? HttpVersion.HTTP_1_1 : v.equals("HTTP/1.0") ? HttpVersion.HTTP_1_0 : null;
            if (version == null) {
                return super.createMessage(initialLine); // Netty's strict parse refuses it, or knows it
            }
            return new DefaultHttpRequest(version, HttpMethod.valueOf(initialLine[0]), initialLine[1],
                    headersFactory.newHeaders(), false);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            if (inHeaderSection) {
                scanner.scan(buffer, buffer.readerIndex(), buffer.writerIndex());
            }
            int before = out.size();
            super.decode(ctx, buffer, out);
            for (int i = before; i < out.size(); i++) {
                Object msg = out.get(i);
                if (msg instanceof HttpRequest request) {
                    if (scanner.foldSeen() && request.decoderResult().isSuccess()) {
                        request.setDecoderResult(DecoderResult.failure(new ObsFoldException()));
                    }
                    methods.add(request.method());
                    inHeaderSection = false;
                }
                if (msg instanceof LastHttpContent) {
                    inHeaderSection = true;
                    scanner.reset();
                }
            }
        }
    }

    /**
     * Finds obs-fold in a header section: a line feed followed by SP or HTAB before the blank line
     * that ends the section. Rescanning the same bytes is harmless, so the caller may pass the
     * whole readable region each time; the scan stops at the end of the header section.
     */
    static final class FoldScanner {
        private boolean fold;
        private boolean done;
        /** A non-empty line of this section was seen (persisted: the decoder consumes whole lines). */
        private boolean sawContent;

        void reset() {
            fold = false;
            done = false;
            sawContent = false;
        }

        boolean foldSeen() {
            return fold;
        }

        void scan(ByteBuf buf, int from, int to) {
            if (done || fold) {
                return;
            }
            // Each call starts at a line start: the decoder consumes whole lines only. A line
            // still incomplete at `to` is scanned again, whole, on the next call.
            int lineStart = from;
            while (lineStart < to) {
                int lf = buf.forEachByte(lineStart, to - lineStart, ByteProcessor.FIND_LF);
                if (lf < 0) {
                    fold = sawContent && isFoldStart(buf.getByte(lineStart));
                    return;
                }
                if (isBlank(buf, lineStart, lf)) {
                    if (sawContent) {
                        done = true; // blank line: end of the header section
                        return;
                    }
                } else {
                    if (sawContent && isFoldStart(buf.getByte(lineStart))) {
                        fold = true;
                        return;
                    }
                    sawContent = true;
                }
                lineStart = lf + 1;
            }
        }

        private static boolean isFoldStart(byte b) {
            return b == ' ' || b == '\t';
        }

        /** Only CRs before the LF: an empty line. */
        private static boolean isBlank(ByteBuf buf, int from, int lf) {
            return buf.forEachByte(from, lf - from, ByteProcessor.FIND_NON_CR) < 0;
        }
    }

    /** Response encoder that leaves the body out of responses to HEAD (like Netty's HttpServerCodec). */
    static final class HeadAwareEncoder extends HttpResponseEncoder {
        private final ArrayDeque<HttpMethod> methods;

        HeadAwareEncoder(ArrayDeque<HttpMethod> methods) {
            this.methods = methods;
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            int code = msg.status().code();
            if (code >= 100 && code < 200 && code != 101) {
                return true; // informational: the final response is still to come
            }
            HttpMethod method = methods.poll();
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }

        @Override
        protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
            HttpText.writeHeaders(headers, buf); // long values (Location) as array copies
        }
    }

    static boolean isHead(HttpMessage message) {
        return message instanceof HttpRequest r && HttpMethod.HEAD.equals(r.method());
    }
}
