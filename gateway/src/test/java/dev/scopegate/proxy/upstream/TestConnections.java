package dev.scopegate.proxy.upstream;

import io.netty.channel.embedded.EmbeddedChannel;

/** Upstream connections over an {@link EmbeddedChannel}, for exchange tests without sockets. */
public final class TestConnections {

    private TestConnections() {
    }

    /** A connection on {@code channel}, in a pool of its own (a release that keeps it makes it idle there). */
    public static UpstreamConnection on(EmbeddedChannel channel) {
        UpstreamPool pool = new UpstreamPool(channel.eventLoop(), null, 1, 0, 0, 0);
        UpstreamConnection c = new UpstreamConnection(pool);
        channel.pipeline().addLast(c);
        return c;
    }
}
