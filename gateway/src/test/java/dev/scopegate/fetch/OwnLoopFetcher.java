package dev.scopegate.fetch;

import dev.scopegate.oauth.HttpFetcher;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * For tests outside this package that must not import Netty: a {@link NettyHttpFetcher} on its
 * own one-thread NIO group, both closed by {@link #close()}.
 */
public final class OwnLoopFetcher implements HttpFetcher, AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final NettyHttpFetcher fetcher = new NettyHttpFetcher(group);

    @Override
    public CompletableFuture<Response> get(URI uri, Map<String, String> headers, int maxBytes, Duration timeout) {
        return fetcher.get(uri, headers, maxBytes, timeout);
    }

    @Override
    public void close() {
        fetcher.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
