package dev.scopegate.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

/**
 * A real HTTP/1.1 origin on {@code 127.0.0.1}, port 0, for proxy tests. Its behaviour is chosen
 * by the request path (anything not listed echoes):
 * <ul>
 *   <li>{@code /echo…} (default): answers with the request body; {@code X-Reply-Status} sets the
 *       status and each {@code X-Reply-Header: Name: value} adds a response header;</li>
 *   <li>{@code /large?n=N[&chunked]}: a body of N {@link BodyPattern} bytes generated on the fly
 *       and written only while the connection is writable;</li>
 *   <li>{@code /count[?paused]}: reads a body of any size and answers {@code bytes=N crc=HEX}
 *       (CRC-32); with {@code paused} it stops reading until {@link #openGate()} is called;</li>
 *   <li>{@code /sse}: an event stream; sends one event, then waits for {@link #openGate()};</li>
 *   <li>{@code /chunked}: a chunked body in three parts with an {@code X-Checksum} trailer;</li>
 *   <li>{@code /noclen}: a body without Content-Length or chunking, ended by closing;</li>
 *   <li>{@code /hang}: never answers;</li>
 *   <li>{@code /reset}: resets the connection (SO_LINGER 0) instead of answering;</li>
 *   <li>{@code /reset-mid[?chunked]}: sends a head announcing 1,000,000 bytes (or a chunked body)
 *       and some of them, then resets once {@link #openGate()} is called;</li>
 *   <li>{@code /garbage}: answers bytes that are not HTTP, then closes;</li>
 *   <li>{@code /twice}: answers {@code ok}, followed in the same write by a second, unsolicited
 *       response ({@code unsolicited}), and keeps the connection open;</li>
 *   <li>{@code /early}: answers 413 as soon as the head arrives, then reads and drops the body;</li>
 *   <li>{@code /early-hints}: a {@code 103 Early Hints} before a 200 {@code hinted};</li>
 *   <li>{@code /slow?ms=N}: echoes after N milliseconds;</li>
 *   <li>{@code /gated}: echoes once {@link #openGate()} is called;</li>
 *   <li>{@code /status?code=N}: answers status N (no body for 204 and 304).</li>
 * </ul>
 * Every complete request is recorded ({@link #takeReceived()}). Thread-safe.
 */
final class TestUpstream implements AutoCloseable {

    /** A header or trailer line as the upstream decoded it. */
    record Header(String name, String value) {}

    /** What the upstream received; {@code body} is null when it was over {@link #KEEP_BODY_BYTES}. */
    record Received(String method, String uri, String version, List<Header> headers, byte[] body, long bodyBytes,
                    List<Header> trailers) {

        List<String> all(String name) {
            return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(Header::value).toList();
        }

        String first(String name) {
            List<String> all = all(name);
            return all.isEmpty() ? null : all.get(0);
        }

        String bodyText() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    static final int KEEP_BODY_BYTES = 8 << 20;
    static final long RESET_MID_LENGTH = 1_000_000;
    static final int RESET_MID_SENT = 40_000;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ChannelGroup channels = new DefaultChannelGroup("test-upstream", GlobalEventExecutor.INSTANCE);
    private final AtomicInteger accepted = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong bytesReceived = new java.util.concurrent.atomic.AtomicLong();
    private final AtomicInteger requestHeads = new AtomicInteger();
    private final AtomicInteger cutRequests = new AtomicInteger();
    private final AtomicInteger cutResponses = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong largeBytesWritten = new java.util.concurrent.atomic.AtomicLong();
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final CompletableFuture<Void> gate = new CompletableFuture<>();
    private volatile boolean closeAfterEachResponse;
    private volatile boolean oneRequestPerConnection;
    private final Channel server;

    private TestUpstream(io.netty.handler.ssl.SslContext tls) throws InterruptedException {
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 << 10, 1 << 20))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accepted.incrementAndGet();
                        channels.add(ch);
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast("count", new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                bytesReceived.addAndGet(((ByteBuf) msg).readableBytes());
                                ctx.fireChannelRead(msg);
                            }
                        });
                        ch.pipeline().addLast("codec", new HttpServerCodec(new HttpDecoderConfig()
                                .setMaxInitialLineLength(16384).setMaxHeaderSize(65536).setMaxChunkSize(65536)));
                        ch.pipeline().addLast("origin", new OriginHandler());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    static TestUpstream start() throws InterruptedException {
        return new TestUpstream(null);
    }

    /** An upstream speaking HTTPS with {@code tls}. */
    static TestUpstream startTls(io.netty.handler.ssl.SslContext tls) throws InterruptedException {
        return new TestUpstream(tls);
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /**
     * Bytes read from all connections so far (after TLS), decodable or not: what the gateway
     * wrote, including requests the upstream's decoder refused.
     */
    long bytesReceived() {
        return bytesReceived.get();
    }

    /** Connections accepted so far. */
    int acceptedConnections() {
        return accepted.get();
    }

    /** Close every connection right after its response, without saying {@code Connection: close}. */
    void closeAfterEachResponse(boolean close) {
        closeAfterEachResponse = close;
    }

    /**
     * Serve one request per connection: a second request on a connection is dropped by closing
     * it unanswered, like an origin whose keep-alive timeout fired as the request arrived.
     */
    void oneRequestPerConnection(boolean one) {
        oneRequestPerConnection = one;
    }

    /**
     * Lets {@code /sse} send its second event, {@code /reset-mid} reset, {@code /count?paused} read
     * and {@code /gated} answer. Once open, the gate stays open.
     */
    void openGate() {
        gate.complete(null);
    }

    /** The next complete request the upstream received (waits up to 5 s). */
    Received takeReceived() throws InterruptedException {
        Received r = received.poll(5, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("the upstream received no request");
        }
        return r;
    }

    /** Body bytes {@code /large} has handed to its connection so far (all requests together). */
    long largeBytesWritten() {
        return largeBytesWritten.get();
    }

    /** Request heads received so far (complete or not). */
    int requestHeads() {
        return requestHeads.get();
    }

    /** Connections that closed while a request body was still arriving. */
    int cutRequests() {
        return cutRequests.get();
    }

    /** Connections that closed while {@code /large} was still sending. */
    int cutResponses() {
        return cutResponses.get();
    }

    /** Requests received and not yet taken. */
    int pendingReceived() {
        return received.size();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        channels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One connection; event-loop confined. */
    private final class OriginHandler extends ChannelInboundHandlerAdapter {
        private HttpRequest request;
        private int served;
        private boolean answeredEarly;
        private ByteArrayOutputStream body;
        private long bodyBytes;
        private final CRC32 crc = new CRC32();
        private long largeTotal;
        private long largeSent;
        private boolean streaming;
        private HttpRequest streamingRequest;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest r) {
                    if (r.decoderResult().isFailure()) {
                        ctx.close();
                        return;
                    }
                    if (oneRequestPerConnection && served > 0) {
                        ctx.close();
                        return;
                    }
                    served++;
                    requestHeads.incrementAndGet();
                    request = r;
                    answeredEarly = false;
                    if (new QueryStringDecoder(r.uri()).path().equals("/early")) {
                        // answer before reading the body (which is then read and dropped)
                        answeredEarly = true;
                        FullHttpResponse early = full(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                                "early".getBytes(StandardCharsets.US_ASCII));
                        ctx.writeAndFlush(early);
                    }
                    if (r.uri().startsWith("/count?paused")) {
                        // stop reading the body until the test opens the gate
                        ctx.channel().config().setAutoRead(false);
                        gate.thenRun(() -> ctx.executor().execute(() -> ctx.channel().config().setAutoRead(true)));
                    }
                    body = new ByteArrayOutputStream();
                    bodyBytes = 0;
                    crc.reset();
                }
                if (msg instanceof HttpContent c && request != null) {
                    if (c.decoderResult().isFailure()) {
                        ctx.close();
                        return;
                    }
                    ByteBuf part = c.content();
                    int n = part.readableBytes();
                    for (ByteBuffer nio : part.nioBuffers()) {
                        crc.update(nio);
                    }
                    if (bodyBytes + n <= KEEP_BODY_BYTES) {
                        part.getBytes(part.readerIndex(), body, n);
                    }
                    bodyBytes += n;
                    if (c instanceof LastHttpContent last) {
                        List<Header> trailers = headers(last.trailingHeaders().iteratorAsString());
                        byte[] bytes = bodyBytes <= KEEP_BODY_BYTES ? body.toByteArray() : null;
                        HttpRequest req = request;
                        request = null;
                        received.add(new Received(req.method().name(), req.uri(), req.protocolVersion().text(),
                                headers(req.headers().iteratorAsString()), bytes, bodyBytes, trailers));
                        if (!answeredEarly) {
                            respond(ctx, req, bytes);
                        }
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private List<Header> headers(java.util.Iterator<Map.Entry<String, String>> it) {
            List<Header> list = new ArrayList<>();
            it.forEachRemaining(e -> list.add(new Header(e.getKey(), e.getValue())));
            return list;
        }

        private void respond(ChannelHandlerContext ctx, HttpRequest req, byte[] reqBody) {
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            String path = q.path();
            boolean head = HttpMethod.HEAD.equals(req.method());
            switch (path) {
                case "/large" -> {
                    long n = Long.parseLong(q.parameters().get("n").get(0));
                    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
                    if (q.parameters().containsKey("chunked")) {
                        r.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                    } else {
                        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, n);
                    }
                    ctx.write(r);
                    if (head) {
                        finish(ctx, req, ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
                        return;
                    }
                    largeTotal = n;
                    largeSent = 0;
                    streaming = true;
                    streamingRequest = req;
                    writeMore(ctx);
                }
                case "/count" -> finish(ctx, req, ctx.writeAndFlush(full(HttpResponseStatus.OK,
                        ("bytes=" + bodyBytes + " crc=" + Long.toHexString(crc.getValue())).getBytes(StandardCharsets.US_ASCII))));
                case "/sse" -> {
                    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
                            .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                            .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                    ctx.write(r);
                    ctx.writeAndFlush(content("data: one\n\n"));
                    gate.thenRun(() -> ctx.executor().execute(() -> {
                        if (ctx.channel().isActive()) {
                            ctx.write(content("data: two\n\n"));
                            finish(ctx, req, ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
                        }
                    }));
                }
                case "/chunked" -> {
                    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    r.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
                            .set(HttpHeaderNames.TRAILER, "X-Checksum");
                    ctx.write(r);
                    ctx.writeAndFlush(content("alpha-"));
                    ctx.writeAndFlush(content("beta-"));
                    ctx.writeAndFlush(content("gamma"));
                    LastHttpContent last = new DefaultLastHttpContent();
                    last.trailingHeaders().set("X-Checksum", "alpha-beta-gamma");
                    finish(ctx, req, ctx.writeAndFlush(last));
                }
                case "/noclen" -> raw(ctx, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody ended by close")
                        .addListener(ChannelFutureListener.CLOSE);
                case "/hang" -> {
                    // never answer
                }
                case "/reset" -> reset(ctx);
                case "/reset-mid" -> {
                    boolean chunked = q.parameters().containsKey("chunked");
                    ByteBuf buf = ctx.alloc().buffer();
                    buf.writeCharSequence("HTTP/1.1 200 OK\r\n" + (chunked ? "Transfer-Encoding: chunked"
                            : "Content-Length: " + RESET_MID_LENGTH) + "\r\n\r\n", StandardCharsets.US_ASCII);
                    if (chunked) {
                        buf.writeCharSequence(Integer.toHexString(RESET_MID_SENT) + "\r\n", StandardCharsets.US_ASCII);
                    }
                    BodyPattern.writeTo(buf, 0, RESET_MID_SENT);
                    if (chunked) {
                        buf.writeCharSequence("\r\n", StandardCharsets.US_ASCII);
                    }
                    rawContext(ctx).writeAndFlush(buf);
                    gate.thenRun(() -> ctx.executor().execute(() -> reset(ctx)));
                }
                case "/early-hints" -> {
                    ByteBuf hints = Unpooled.copiedBuffer("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
                            StandardCharsets.ISO_8859_1);
                    rawContext(ctx).writeAndFlush(hints);
                    // for HEAD the encoder sends the head only
                    finish(ctx, req, ctx.writeAndFlush(full(HttpResponseStatus.OK, "hinted".getBytes(StandardCharsets.US_ASCII))));
                }
                case "/garbage" -> raw(ctx, "garbage garbage garbage\r\n\r\n").addListener(ChannelFutureListener.CLOSE);
                // two complete responses to one request, in one write; the connection stays open
                case "/twice" -> raw(ctx, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                        + "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nunsolicited");
                case "/slow" -> {
                    long ms = Long.parseLong(q.parameters().get("ms").get(0));
                    ctx.executor().schedule(() -> echo(ctx, req, reqBody), ms, TimeUnit.MILLISECONDS);
                }
                case "/gated" -> gate.thenRun(() -> ctx.executor().execute(() -> echo(ctx, req, reqBody)));
                case "/status" -> {
                    int code = Integer.parseInt(q.parameters().get("code").get(0));
                    HttpResponseStatus status = HttpResponseStatus.valueOf(code);
                    if (code == 204 || code == 304) {
                        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status);
                        r.headers().set(HttpHeaderNames.ETAG, "\"v1\"");
                        finish(ctx, req, ctx.writeAndFlush(r));
                    } else {
                        finish(ctx, req, ctx.writeAndFlush(full(status, "status".getBytes(StandardCharsets.US_ASCII))));
                    }
                }
                default -> echo(ctx, req, reqBody);
            }
        }

        private void echo(ChannelHandlerContext ctx, HttpRequest req, byte[] reqBody) {
            String statusValue = req.headers().get("x-reply-status");
            HttpResponseStatus status = statusValue == null ? HttpResponseStatus.OK
                    : HttpResponseStatus.valueOf(Integer.parseInt(statusValue));
            FullHttpResponse r = full(status, reqBody == null ? new byte[0] : reqBody);
            r.headers().set("X-Echo-Method", req.method().name()).set("X-Echo-Uri", req.uri());
            for (String line : req.headers().getAll("x-reply-header")) {
                int colon = line.indexOf(':');
                r.headers().add(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
            finish(ctx, req, ctx.writeAndFlush(r));
        }

        private FullHttpResponse full(HttpResponseStatus status, byte[] bytes) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream")
                    .set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            return r;
        }

        private HttpContent content(String text) {
            return new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
        }

        /** Bytes straight to the connection (TLS still applies), past the HTTP encoder. */
        private io.netty.channel.ChannelFuture raw(ChannelHandlerContext ctx, String text) {
            return rawContext(ctx).writeAndFlush(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
        }

        private ChannelHandlerContext rawContext(ChannelHandlerContext ctx) {
            return ctx.pipeline().context("codec");
        }

        private void reset(ChannelHandlerContext ctx) {
            ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
            ctx.close();
        }

        private void finish(ChannelHandlerContext ctx, HttpRequest req, io.netty.channel.ChannelFuture written) {
            if (closeAfterEachResponse || !HttpUtil.isKeepAlive(req)) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        }

        private void writeMore(ChannelHandlerContext ctx) {
            while (streaming && ctx.channel().isWritable()) {
                if (largeSent == largeTotal) {
                    streaming = false;
                    finish(ctx, streamingRequest, ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
                    return;
                }
                ByteBuf buf = BodyPattern.slice(largeSent, (int) Math.min(BodyPattern.PERIOD, largeTotal - largeSent));
                int len = buf.readableBytes();
                largeSent += len;
                largeBytesWritten.addAndGet(len);
                ctx.write(new DefaultHttpContent(buf));
            }
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (streaming && ctx.channel().isWritable()) {
                writeMore(ctx);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (request != null) {
                cutRequests.incrementAndGet();
            }
            if (streaming) {
                cutResponses.incrementAndGet();
            }
            streaming = false;
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
