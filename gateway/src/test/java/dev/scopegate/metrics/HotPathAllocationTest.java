package dev.scopegate.metrics;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Recording on the request path allocates nothing per request: after the first use of each label
 * set, a hundred thousand recordings allocate (almost) no bytes on the recording thread. Measured
 * with the JVM's per-thread allocation counter, not with time.
 */
class HotPathAllocationTest {

    static final int N = 100_000;
    /** Slack for rare, amortized allocations (e.g. a histogram max window rotating). Far below one byte per call. */
    static final long SLACK_BYTES = 16 * 1024;

    @Test
    void recordingAllocatesNothingPerRequest() {
        var threads = ManagementFactory.getThreadMXBean();
        assumeTrue(threads instanceof com.sun.management.ThreadMXBean, "no per-thread allocation counter");
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) threads;
        assumeTrue(mx.isThreadAllocatedMemorySupported());
        mx.setThreadAllocatedMemoryEnabled(true);

        try (MetricsRegistry registry = MetricsRegistry.create()) {
            ProxyMetrics proxy = new ProxyMetrics(registry.registry(), new String[]{"authorize", "pass-through"});
            ScopeMetrics scope = new ScopeMetrics(registry.registry());
            scope.declare(List.of("chatgpt", "other"), List.of("registered", "default"));
            OutcomeMetrics outcomes = new OutcomeMetrics(registry.registry());
            int get = ProxyMetrics.methodIndex("GET");
            Runnable request = () -> {
                proxy.connectionOpened();
                proxy.exchangeStarted();
                proxy.upstreamLatency(0, 1_234_567);
                proxy.upstreamLatency(1, 2_345_678);
                scope.rewrite("registered", "chatgpt", false);
                scope.rewrite("default", "other", true);
                scope.unresolved("other", "forward");
                scope.skip("client-id-repeated");
                scope.registration("captured");
                scope.learned("authorize");
                outcomes.outcome("learned", "chatgpt", "none");
                outcomes.outcome("registered", "other", "invalid_scope");
                outcomes.addAlways("chatgpt");
                outcomes.demoted("learned");
                outcomes.issAdded();
                proxy.upstreamError("TIMEOUT");
                proxy.refused("headers-too-large");
                proxy.bodyOverCap("form");
                proxy.exchangeEnded();
                proxy.request(1, get, 200);
                proxy.connectionClosed();
            };
            for (int i = 0; i < N; i++) { // first use of each label set, and JIT warm-up
                request.run();
            }
            long tid = Thread.currentThread().getId();
            long before = mx.getThreadAllocatedBytes(tid);
            for (int i = 0; i < N; i++) {
                request.run();
            }
            long allocated = mx.getThreadAllocatedBytes(tid) - before;
            assertThat(allocated).as("bytes allocated by %d recordings", N).isLessThan(SLACK_BYTES);
        }
    }
}
