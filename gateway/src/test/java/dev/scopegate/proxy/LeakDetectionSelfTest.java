package dev.scopegate.proxy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The harness would notice a leaked buffer, so "no leak reported" means something. The
 * deliberate leak's report is kept off the console so that grepping the test output for
 * {@code LEAK} still finds only real ones.
 */
class LeakDetectionSelfTest {

    @Test
    void aDroppedBufferIsReported() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        List<Appender<ILoggingEvent>> console = new ArrayList<>();
        root.iteratorForAppenders().forEachRemaining(console::add);
        console.forEach(root::detachAppender);
        try (LogWatch watch = LogWatch.attach()) {
            leak();
            for (int i = 0; i < 5 && watch.problems().isEmpty(); i++) {
                GatewayFixture.provokeLeakReports();
            }
            assertThat(watch.problems()).anyMatch(p -> p.contains("LEAK:"));
        } finally {
            console.forEach(root::addAppender);
        }
    }

    private static void leak() {
        ByteBuf dropped = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        dropped.writeLong(42);
    }
}
