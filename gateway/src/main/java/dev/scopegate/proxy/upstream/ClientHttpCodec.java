package dev.scopegate.proxy.upstream;

import dev.scopegate.proxy.codec.HttpText;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;

import java.util.ArrayDeque;
import java.util.List;

/**
 * The upstream-side HTTP/1.1 codec: what Netty's {@code HttpClientCodec} does for a proxy that
 * never sends {@code CONNECT} or upgrades (a response to {@code HEAD} has no body, whatever its
 * framing headers say), with an encoder that forwards the request target byte for byte.
 *
 * <p>The client-side decoder reads the request line as ISO-8859-1 (one char per byte), so the
 * target is written back the same way: a raw non-ASCII byte a client sent reaches the upstream
 * unchanged, where Netty's encoder (UTF-8) would have turned each such byte into two. Long
 * targets and field values are copied as arrays ({@link HttpText}). One pair per connection;
 * event-loop confined.
 */
final class ClientHttpCodec {

    private ClientHttpCodec() {
    }

    /**
     * Adds the decoder ({@code http-decoder}) and the encoder ({@code http-encoder}) to {@code p}:
     * two handlers, not one {@code CombinedChannelDuplexHandler}, whose delegating contexts every
     * read, write and flush would pass through.
     */
    static void addTo(ChannelPipeline p, HttpDecoderConfig config) {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);
        p.addLast("http-decoder", new Decoder(config, methods));
        p.addLast("http-encoder", new Encoder(methods));
    }

    static final class Encoder extends HttpRequestEncoder {
        private static final short CRLF = (short) (('\r' << 8) | '\n');
        private final ArrayDeque<HttpMethod> methods;

        Encoder(ArrayDeque<HttpMethod> methods) {
            this.methods = methods;
        }

        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            if (msg instanceof HttpRequest request) {
                methods.add(request.method());
            }
            super.encode(ctx, msg, out);
        }

        @Override
        protected void encodeInitialLine(ByteBuf buf, HttpRequest request) throws Exception {
            String target = request.uri();
            if (target.isEmpty() || target.charAt(0) != '/') {
                super.encodeInitialLine(buf, request); // "*", or absolute-form (Netty adds a missing "/")
                return;
            }
            ByteBufUtil.copy(request.method().asciiName(), buf);
            buf.writeByte(' ');
            HttpText.writeAscii(target, buf);
            buf.writeByte(' ');
            HttpText.writeAscii(request.protocolVersion().text(), buf);
            buf.writeShort(CRLF);
        }

        @Override
        protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
            HttpText.writeHeaders(headers, buf);
        }
    }

    static final class Decoder extends HttpResponseDecoder {
        private final ArrayDeque<HttpMethod> methods;

        Decoder(HttpDecoderConfig config, ArrayDeque<HttpMethod> methods) {
            super(config);
            this.methods = methods;
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage msg) {
            int code = ((HttpResponse) msg).status().code();
            if (code >= 100 && code < 200) {
                return super.isContentAlwaysEmpty(msg); // the final response is still to come
            }
            // null when an upstream sent more responses than it was asked for (the connection then closes)
            HttpMethod method = methods.poll();
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }
    }
}
