package dev.scopegate.tls;

import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class DefaultClientTlsTest {

    @Test
    void buildsOneClientContextOnFirstUseAndKeepsIt() {
        DefaultClientTls tls = new DefaultClientTls();
        assertThat(tls.built()).as("nothing is built before it is needed").isFalse();
        SslContext first = tls.get();
        assertThat(first.isClient()).isTrue();
        assertThat(tls.get()).isSameAs(first);
    }

    @Test
    void prewarmBuildsItOnTheGivenExecutorSoThatGetFindsItBuilt() throws InterruptedException {
        DefaultClientTls tls = new DefaultClientTls();
        List<Thread> ran = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        tls.prewarm(task -> {
            Thread t = new Thread(() -> {
                task.run();
                done.countDown();
            });
            ran.add(t);
            t.start();
        });
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(ran).hasSize(1);
        assertThat(tls.built()).as("built by the prewarm, not by get()").isTrue();
        SslContext built = tls.get();
        assertThat(built.isClient()).isTrue();
        assertThat(tls.get()).isSameAs(built);
    }
}
