package dev.scopegate.proxy.upstream;

import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.resolver.DefaultAddressResolverGroup;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The per-loop connection pool against a real listening socket. */
class UpstreamPoolTest {

    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    private ServerSocket server;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private UpstreamClient client;

    @BeforeEach
    void start() throws IOException {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        loop = group.next();
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    accepted.add(server.accept());
                } catch (IOException e) {
                    return;
                }
            }
        }, "test-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    @AfterEach
    void stop() throws IOException {
        if (client != null) {
            client.close();
        }
        server.close();
        for (Socket s : accepted) {
            s.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private UpstreamPool pool(int max, Duration connectTimeout, Duration idle, int port) {
        client = new UpstreamClient(NioSocketChannel.class, DefaultAddressResolverGroup.INSTANCE,
                new UpstreamClient.Settings(connectTimeout, max, 1, idle, 8192));
        return client.pool(loop, new Origin(false, "127.0.0.1", port));
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    /** Polls {@code condition} until it holds, failing after 5 s. */
    private static void eventually(Callable<Boolean> condition) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.call()) {
            assertThat(System.nanoTime()).as("condition within 5 s").isLessThan(end);
            Thread.sleep(10);
        }
    }

    private static UpstreamConnection await(Future<UpstreamConnection> f) throws Exception {
        return f.get(5, TimeUnit.SECONDS);
    }

    @Test
    void releasedConnectionIsReusedMostRecentFirst() throws Exception {
        UpstreamPool pool = pool(4, Duration.ofSeconds(2), Duration.ofSeconds(60), server.getLocalPort());
        UpstreamConnection a = await(onLoop(pool::acquire));
        UpstreamConnection b = await(onLoop(pool::acquire));
        assertThat(a).isNotSameAs(b);
        onLoop(() -> {
            a.release(true);
            b.release(true);
            return null;
        });
        assertThat(onLoop(pool::pollIdle)).isSameAs(b);
        assertThat(onLoop(pool::pollIdle)).isSameAs(a);
        assertThat(onLoop(pool::pollIdle)).isNull();
        assertThat(onLoop(pool::openConnections)).isEqualTo(2);
        eventually(() -> accepted.size() == 2);
    }

    @Test
    void aConnectionNotReusableIsClosedAndFreesItsSlot() throws Exception {
        UpstreamPool pool = pool(1, Duration.ofSeconds(2), Duration.ofSeconds(60), server.getLocalPort());
        UpstreamConnection a = await(onLoop(pool::acquire));
        onLoop(() -> {
            a.release(false);
            return null;
        });
        eventually(() -> onLoop(pool::openConnections) == 0);
        UpstreamConnection b = await(onLoop(pool::acquire));
        assertThat(b).isNotSameAs(a);
        assertThat(a.channel().isActive()).isFalse();
    }

    @Test
    void anAcquireBeyondTheLimitWaitsForARelease() throws Exception {
        UpstreamPool pool = pool(1, Duration.ofSeconds(5), Duration.ofSeconds(60), server.getLocalPort());
        UpstreamConnection a = await(onLoop(pool::acquire));
        Future<UpstreamConnection> waiting = onLoop(pool::acquire);
        assertThat(waiting.isDone()).isFalse();
        onLoop(() -> {
            a.release(true);
            return null;
        });
        assertThat(await(waiting)).isSameAs(a);
        assertThat(onLoop(pool::idleConnections)).isZero();
    }

    @Test
    void anAcquireBeyondTheLimitFailsAsExhaustedAfterTheTimeout() throws Exception {
        UpstreamPool pool = pool(1, Duration.ofMillis(200), Duration.ofSeconds(60), server.getLocalPort());
        await(onLoop(pool::acquire));
        Future<UpstreamConnection> waiting = onLoop(pool::acquire);
        assertThat(waiting.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(waiting.cause()).isInstanceOfSatisfying(UpstreamFailure.class,
                f -> assertThat(f.kind()).isEqualTo(UpstreamFailure.Kind.POOL_EXHAUSTED));
    }

    @Test
    void aWaiterGetsANewConnectionWhenAnotherCloses() throws Exception {
        UpstreamPool pool = pool(1, Duration.ofSeconds(5), Duration.ofSeconds(60), server.getLocalPort());
        UpstreamConnection a = await(onLoop(pool::acquire));
        Future<UpstreamConnection> waiting = onLoop(pool::acquire);
        a.channel().close();
        UpstreamConnection b = await(waiting);
        assertThat(b).isNotSameAs(a);
        assertThat(b.channel().isActive()).isTrue();
    }

    @Test
    void idleConnectionsAreClosedAfterTheIdleTimeout() throws Exception {
        UpstreamPool pool = pool(4, Duration.ofSeconds(2), Duration.ofMillis(300), server.getLocalPort());
        UpstreamConnection a = await(onLoop(pool::acquire));
        onLoop(() -> {
            a.release(true);
            return null;
        });
        eventually(() -> !a.channel().isActive());
        eventually(() -> onLoop(pool::openConnections) == 0);
        assertThat(onLoop(pool::pollIdle)).isNull();
    }

    @Test
    void anIdleConnectionClosedByTheUpstreamLeavesThePool() throws Exception {
        UpstreamPool pool = pool(4, Duration.ofSeconds(2), Duration.ofSeconds(60), server.getLocalPort());
        UpstreamConnection a = await(onLoop(pool::acquire));
        onLoop(() -> {
            a.release(true); // keeps a read pending: the close is noticed while idle
            return null;
        });
        eventually(() -> accepted.size() == 1);
        accepted.get(0).close();
        eventually(() -> onLoop(pool::openConnections) == 0);
        assertThat(onLoop(pool::idleConnections)).isZero();
        assertThat(onLoop(pool::pollIdle)).isNull();
    }

    @Test
    void aRefusedConnectFailsTheAcquireAndFreesTheSlot() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        UpstreamPool pool = pool(1, Duration.ofSeconds(2), Duration.ofSeconds(60), closedPort);
        Future<UpstreamConnection> f = onLoop(pool::acquire);
        assertThat(f.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(f.cause()).isInstanceOfSatisfying(UpstreamFailure.class,
                u -> assertThat(u.kind()).isEqualTo(UpstreamFailure.Kind.CONNECT_ERROR));
        eventually(() -> onLoop(pool::openConnections) == 0);
    }

    @Test
    void closingThePoolFailsWaitersAndClosesIdleConnections() throws Exception {
        UpstreamPool pool = pool(1, Duration.ofSeconds(5), Duration.ofSeconds(60), server.getLocalPort());
        UpstreamConnection a = await(onLoop(pool::acquire));
        Future<UpstreamConnection> waiting = onLoop(pool::acquire);
        onLoop(() -> {
            pool.close();
            return null;
        });
        assertThat(waiting.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(waiting.isSuccess()).isFalse();
        onLoop(() -> {
            a.release(true); // released after close: closed, not kept
            return null;
        });
        eventually(() -> !a.channel().isActive());
        assertThat(onLoop(pool::idleConnections)).isZero();
    }
}
