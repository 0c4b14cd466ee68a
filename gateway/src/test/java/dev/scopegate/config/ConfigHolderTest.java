package dev.scopegate.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ConfigHolderTest {

    private static ScopegateConfig withPort(int port) {
        ScopegateConfig d = ConfigLoader.defaults();
        ScopegateConfig.Listen l = d.listen();
        return new ScopegateConfig(new ScopegateConfig.Listen(l.host(), port, l.tls(), l.drainTimeout()), d.admin(),
                d.publicBaseUrl(), d.trustedProxies(), d.upstream(), d.routes(), d.metadata(), d.compat(), d.endpoints(), d.scope(),
                d.resources(), d.limits(), d.store(), d.cache(), d.logging(), d.health());
    }

    @Test
    void swapInstallsTheNewConfigAndReturnsThePrevious() {
        ScopegateConfig first = withPort(1);
        ScopegateConfig second = withPort(2);
        ConfigHolder holder = new ConfigHolder(first);

        assertThat(holder.current()).isSameAs(first);
        assertThat(holder.swap(second)).isSameAs(first);
        assertThat(holder.current()).isSameAs(second);
    }

    @Test
    void listenersHearEachSwapAfterItHappened() {
        ConfigHolder holder = new ConfigHolder(withPort(1));
        List<Integer> seen = new ArrayList<>();
        holder.addListener(c -> {
            assertThat(holder.current()).isSameAs(c);
            seen.add(c.listen().port());
        });

        holder.swap(withPort(2));
        holder.swap(withPort(3));

        assertThat(seen).containsExactly(2, 3);
    }

    @Test
    void aFailingListenerDoesNotStopTheOthers() {
        ConfigHolder holder = new ConfigHolder(withPort(1));
        List<Integer> seen = new ArrayList<>();
        holder.addListener(c -> {
            throw new IllegalStateException("boom (expected by the test)");
        });
        holder.addListener(c -> seen.add(c.listen().port()));

        ScopegateConfig previous = holder.swap(withPort(2));

        assertThat(previous.listen().port()).isEqualTo(1);
        assertThat(holder.current().listen().port()).isEqualTo(2);
        assertThat(seen).containsExactly(2);
    }

    @Test
    void concurrentSwapsAreSerializedAndEachSeenOnce() throws Exception {
        int threads = 4;
        int swapsPerThread = 50;
        ConfigHolder holder = new ConfigHolder(withPort(0));
        List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
        List<Integer> previous = Collections.synchronizedList(new ArrayList<>());
        holder.addListener(c -> seen.add(c.listen().port()));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = 1 + t * swapsPerThread;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < swapsPerThread; i++) {
                        previous.add(holder.swap(withPort(base + i)).listen().port());
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        int total = threads * swapsPerThread;
        assertThat(seen).hasSize(total).doesNotHaveDuplicates();
        // Serialized swaps form one chain: every config but the last was replaced exactly once.
        assertThat(previous).hasSize(total).doesNotHaveDuplicates().contains(0);
        assertThat(seen.get(total - 1)).isEqualTo(holder.current().listen().port());
        assertThat(previous).doesNotContain(holder.current().listen().port());
    }
}
