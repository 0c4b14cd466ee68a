package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** shutdown() stops accepting at once, lets the exchange in flight finish, then closes. */
@Timeout(20)
class GracefulShutdownTest {

    private TestUpstream upstream;
    private GatewayFixture gateway;

    @BeforeEach
    void start() throws Exception {
        upstream = TestUpstream.start();
        gateway = GatewayFixture.start(upstream.port());
    }

    @AfterEach
    void stop() {
        gateway.close();
        upstream.close();
    }

    @Test
    void inFlightRequestCompletesThenNewConnectionsAreRefused() throws Exception {
        int port = gateway.port();
        try (RawConnection busy = gateway.connect(); RawConnection idle = gateway.connect()) {
            idle.send("GET /echo/idle HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(idle.read().status()).isEqualTo(200);
            assertThat(upstream.takeReceived().uri()).isEqualTo("/echo/idle");

            busy.send("POST /gated HTTP/1.1\r\nHost: client.example\r\nContent-Length: 4\r\n\r\nslow");
            assertThat(upstream.takeReceived().uri()).isEqualTo("/gated"); // in flight now

            CompletableFuture<Void> shutdown = CompletableFuture.runAsync(
                    () -> gateway.server().shutdown(Duration.ofSeconds(5)));
            while (!gateway.lifecycle().draining()) {
                Thread.onSpinWait();
            }
            // During the drain the listener still accepts: what a load balancer sends before it
            // noticed the readiness flip is answered, and the connection closed after it.
            try (RawConnection late = gateway.connect()) {
                late.send("GET /echo/late HTTP/1.1\r\nHost: client.example\r\n\r\n");
                RawConnection.Response lr = late.read();
                assertThat(lr.status()).isEqualTo(200);
                assertThat(lr.header("Connection")).isEqualToIgnoringCase("close");
                assertThat(late.closedByPeer()).isTrue();
                assertThat(upstream.takeReceived().uri()).isEqualTo("/echo/late");
            }
            assertThat(shutdown).isNotDone();

            upstream.openGate();
            RawConnection.Response r = busy.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("slow");
            assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(busy.closedByPeer()).isTrue();

            shutdown.get();
            assertThat(gateway.lifecycle().inFlight()).isZero();
            assertThat(idle.closedByPeer()).as("idle keep-alive connection closed").isTrue();
        }
        assertThatThrownBy(() -> RawConnection.open(port)).isInstanceOf(ConnectException.class);
    }

    @Test
    void shutdownWithNothingInFlightReturnsPromptly() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            gateway.server().shutdown(Duration.ofSeconds(5));
            assertThat(c.closedByPeer()).isTrue();
        }
    }

}
