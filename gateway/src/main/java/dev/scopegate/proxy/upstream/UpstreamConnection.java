package dev.scopegate.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

/**
 * One pooled keep-alive connection to an upstream origin and the handler at the end of its
 * pipeline. Bound to at most one exchange at a time; event-loop confined.
 *
 * <p>Reads are explicit ({@code AUTO_READ} off): the bound exchange asks for the next read when
 * the client has accepted the last write. While idle in the pool a read is kept pending so a
 * close by the upstream is noticed at once and the connection leaves the pool.
 */
public final class UpstreamConnection extends ChannelDuplexHandler {

    static final AttributeKey<UpstreamConnection> KEY = AttributeKey.valueOf("scopegate.upstream");

    private final UpstreamPool pool;
    private Channel channel;
    private UpstreamListener listener;
    private int exchanges;
    /** Set after a 1xx head: its empty LastHttpContent is not the end of the response. */
    private boolean skipNextLast;
    /**
     * A final response head not yet handed to the listener: if the whole body follows in the same
     * read (the usual small response), both go out as one {@link FullHttpResponse}, which the
     * client side writes as one message instead of two. Never held past the end of a read.
     */
    private HttpResponse heldHead;
    /** Inside a read of this connection (from its first message to its read-complete). */
    private boolean inRead;
    /**
     * A release asked for during a read: carried out when the read is over, so that whatever else
     * the upstream sent in it (an unsolicited second response) is seen first and closes the
     * connection instead of answering the next exchange to take it from the pool.
     */
    private boolean releasePending;
    private boolean releaseReusable;

    private long idleSince;

    UpstreamConnection(UpstreamPool pool) {
        this.pool = pool;
    }

    static UpstreamConnection of(Channel ch) {
        return ch.attr(KEY).get();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        channel.attr(KEY).set(this);
    }

    /** Binds the connection to an exchange. */
    public void bind(UpstreamListener l) {
        listener = l;
        skipNextLast = false;
        heldHead = null;
    }

    /** True when this connection already served an exchange (it may be stale). */
    public boolean reused() {
        return exchanges > 0;
    }

    public Channel channel() {
        return channel;
    }

    public boolean isWritable() {
        return channel.isWritable();
    }

    /** Writes without a promise: a failure reaches the bound listener as an upstream failure. */
    public void write(Object msg) {
        channel.write(msg, channel.voidPromise());
    }

    /** Writes and flushes without a promise: a failure reaches the bound listener as an upstream failure. */
    public void writeAndFlush(Object msg) {
        channel.writeAndFlush(msg, channel.voidPromise());
    }

    public void flush() {
        channel.flush();
    }

    public void read() {
        channel.read();
    }

    /**
     * Unbinds the exchange and hands the connection back to its pool; a connection that is not
     * {@code reusable} (response not fully read, {@code Connection: close}, request not fully
     * sent) is closed first.
     */
    public void release(boolean reusable) {
        listener = null;
        exchanges++;
        if (inRead) {
            releasePending = true;
            releaseReusable = reusable;
            return;
        }
        releaseNow(reusable);
    }

    private void releaseNow(boolean reusable) {
        boolean keep = reusable && channel.isActive();
        if (keep) {
            channel.read(); // notice a close while idle
        }
        pool.release(this, keep);
    }

    /** Carries out a release asked for during the read that just ended (or was cut short). */
    private void releaseIfPending(boolean reusable) {
        if (releasePending) {
            releasePending = false;
            releaseNow(releaseReusable && reusable);
        }
    }

    void idleSince(long nanos) {
        idleSince = nanos;
    }

    long idleSince() {
        return idleSince;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inRead = true;
        UpstreamListener l = listener;
        if (l == null) {
            // Bytes from an idle connection, or after the response in the read that completed it,
            // are a protocol violation: drop the connection (a pending release then closes it).
            ReferenceCountUtil.release(msg);
            releaseReusable = false;
            ctx.close();
            return;
        }
        if (msg instanceof DecoderResultProvider p && p.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            if (!releaseHeldHead(l)) {
                return;
            }
            fail(new UpstreamFailure(UpstreamFailure.Kind.BAD_RESPONSE,
                    "malformed response: " + p.decoderResult().cause().getMessage(), p.decoderResult().cause()));
            return;
        }
        if (msg instanceof HttpResponse response) {
            int code = response.status().code();
            if (code >= 100 && code < 200 && code != 101) {
                skipNextLast = true; // informational: wait for the final response
                ReferenceCountUtil.release(msg);
                ctx.read();
                return;
            }
            if (!(msg instanceof HttpContent)) {
                heldHead = response; // until its body part or the end of this read
                return;
            }
            l.onResponseHead(response);
            l.onResponseContent((HttpContent) msg);
            return;
        }
        if (msg instanceof HttpContent content) {
            if (skipNextLast && content instanceof LastHttpContent) {
                skipNextLast = false;
                content.release();
                ctx.read();
                return;
            }
            HttpResponse head = heldHead;
            if (head != null) {
                heldHead = null;
                if (content instanceof LastHttpContent last) {
                    FullHttpResponse whole = new DefaultFullHttpResponse(head.protocolVersion(), head.status(),
                            last.content(), head.headers(), last.trailingHeaders());
                    l.onResponseHead(whole);
                    l.onResponseContent(whole);
                    return;
                }
                l.onResponseHead(head);
                if (listener != l) { // the head ended the exchange
                    content.release();
                    return;
                }
            }
            l.onResponseContent(content);
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    /** Hands a held head to {@code l}; false when that ended the exchange. */
    private boolean releaseHeldHead(UpstreamListener l) {
        HttpResponse head = heldHead;
        if (head == null) {
            return true;
        }
        heldHead = null;
        l.onResponseHead(head);
        return listener == l;
    }

    private void fail(UpstreamFailure failure) {
        UpstreamListener l = listener;
        listener = null;
        channel.close();
        if (l != null) {
            l.onUpstreamFailure(failure);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        inRead = false;
        UpstreamListener l = listener;
        if (l != null && releaseHeldHead(l)) {
            l.onUpstreamReadComplete();
        }
        releaseIfPending(true);
        super.channelReadComplete(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        inRead = false;
        UpstreamListener l = listener;
        if (l != null && releaseHeldHead(l)) {
            fail(new UpstreamFailure(UpstreamFailure.Kind.RESET, "upstream closed the connection", null));
        }
        releaseIfPending(false);
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        UpstreamListener l = listener;
        if (l != null && releaseHeldHead(l)) { // a head already received must not look like no response (retry)
            fail(new UpstreamFailure(UpstreamFailure.Kind.RESET, "upstream connection failed: " + cause.getMessage(), cause));
        } else {
            ctx.close();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        UpstreamListener l = listener;
        if (l != null && ctx.channel().isWritable()) {
            l.onUpstreamWritable();
        }
        super.channelWritabilityChanged(ctx);
    }

}
