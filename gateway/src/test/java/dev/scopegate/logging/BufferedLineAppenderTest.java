package dev.scopegate.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.encoder.Encoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The buffered appender on real files and real threads, in a Logback context of its own. */
class BufferedLineAppenderTest {

    @TempDir
    Path dir;
    LoggerContext context;
    Logger logger;
    BufferedLineAppender appender;
    final ByteArrayOutputStream warnings = new ByteArrayOutputStream();

    @BeforeEach
    void context() {
        context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter());
        logger = context.getLogger("scopegate.access");
        logger.setLevel(Level.INFO);
        logger.setAdditive(false);
    }

    @AfterEach
    void stop() {
        if (appender != null) {
            appender.stop();
        }
        context.stop();
    }

    BufferedLineAppender start(Encoder<ILoggingEvent> encoder, Path file, int bufferSize, int maxBuffers,
                               long flushMillis) {
        appender = new BufferedLineAppender();
        appender.setContext(context);
        appender.setName("LINES");
        appender.setEncoder(encoder);
        appender.setFile(file.toString());
        appender.setBufferSize(bufferSize);
        appender.setMaxBuffers(maxBuffers);
        appender.setFlushMillis(flushMillis);
        appender.setWarnings(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        appender.start();
        assertThat(appender.isStarted()).isTrue();
        logger.addAppender(appender);
        return appender;
    }

    Encoder<ILoggingEvent> pattern() {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg%n");
        encoder.start();
        return encoder;
    }

    static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition not met in time").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void linesFromSeveralThreadsArriveWholeAndInOrder() throws Exception {
        Path file = dir.resolve("logs/access.log"); // the directory is created
        // Small buffers: thousands of hand-offs; enough of them that nothing is dropped.
        start(pattern(), file, 1024, 8192, 5);
        int threads = 4;
        int perThread = 5000;
        List<Thread> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            writers.add(new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    logger.info("t{} {} {}", id, i, "x".repeat(i % 97));
                }
            }));
        }
        writers.forEach(Thread::start);
        for (Thread t : writers) {
            t.join();
        }
        appender.stop();

        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(threads * perThread);
        int[] next = new int[threads];
        Pattern shape = Pattern.compile("t(\\d) (\\d+) (x*)");
        for (String line : lines) {
            Matcher m = shape.matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            int id = Integer.parseInt(m.group(1));
            int seq = Integer.parseInt(m.group(2));
            assertThat(seq).as("thread %d's lines in order", id).isEqualTo(next[id]);
            assertThat(m.group(3)).hasSize(seq % 97); // whole: never cut
            next[id]++;
        }
        assertThat(appender.dropped()).isZero();
        assertThat(warnings.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void aQuietAppenderWritesItsLinesWithinFlushMillis() throws Exception {
        Path file = dir.resolve("access.log");
        start(pattern(), file, 64 * 1024, 16, 50);
        logger.info("the only line");
        // far from a full buffer: only the writer's periodic flush can write it
        waitFor(() -> read(file).equals("the only line\n"));
        assertThat(appender.isStarted()).isTrue();
        logger.info("and a later one");
        waitFor(() -> read(file).equals("the only line\nand a later one\n"));
    }

    @Test
    void anIdleWriterSleepsWithoutADeadlineUntilALineComes() throws Exception {
        Path file = dir.resolve("access.log");
        start(pattern(), file, 64 * 1024, 16, 1); // a 1 ms flush interval: a timed wait if any
        Thread writer = writerThread();
        // Nothing buffered: the writer waits untimed (WAITING), not once per flushMillis (TIMED_WAITING).
        waitFor(() -> writer.getState() == Thread.State.WAITING || writer.getState() == Thread.State.TIMED_WAITING);
        for (int i = 0; i < 50; i++) {
            assertThat(writer.getState()).as("idle writer").isEqualTo(Thread.State.WAITING);
            Thread.onSpinWait();
        }
        logger.info("wakes it");
        waitFor(() -> read(file).equals("wakes it\n"));
        waitFor(() -> writer.getState() == Thread.State.WAITING); // idle again once written
        logger.info("and again");
        waitFor(() -> read(file).equals("wakes it\nand again\n"));
    }

    static Thread writerThread() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(BufferedLineAppender.WRITER_THREAD) && t.isAlive())
                .findFirst().orElseThrow();
    }

    @Test
    void stopWritesEveryBufferedLine() throws Exception {
        Path file = dir.resolve("access.log");
        start(pattern(), file, 64 * 1024, 16, TimeUnit.HOURS.toMillis(1));
        for (int i = 0; i < 100; i++) {
            logger.info("line {}", i);
        }
        assertThat(read(file)).as("an hour's flush interval and a buffer far from full: nothing written yet").isEmpty();
        appender.stop();
        assertThat(Files.readAllLines(file)).hasSize(100).startsWith("line 0").endsWith("line 99");
        logger.info("after stop");
        assertThat(Files.readAllLines(file)).hasSize(100);
    }

    @Test
    void whenTheWriterIsBehindLinesAreDroppedAndCountedNeverWaitedFor() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        OutputStream stuck = new OutputStream() {
            @Override
            public void write(int b) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void write(byte[] b, int off, int len) {
                writing.countDown();
                try {
                    release.await(); // a disk that stalls, a reader that does not drain stdout
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                synchronized (sink) {
                    sink.write(b, off, len);
                }
            }
        };
        appender = new BufferedLineAppender();
        appender.setContext(context);
        appender.setName("LINES");
        appender.setEncoder(pattern());
        appender.setOutput(stuck);
        appender.setBufferSize(256);
        appender.setMaxBuffers(2);
        appender.setFlushMillis(5);
        appender.setWarnings(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        appender.start();
        logger.addAppender(appender);

        logger.info("first");
        assertThat(writing.await(20, TimeUnit.SECONDS)).isTrue(); // the writer is stuck on the first buffer
        int total = 1 + 1000;
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 1; i < total; i++) {
                logger.info("line {}", i);
            }
        }, "logging waited for the stuck writer");
        assertThat(release.getCount()).as("the writer is still stuck").isEqualTo(1);
        long dropped = appender.dropped();
        assertThat(dropped).isPositive();
        assertThat(BufferedLineAppender.droppedIn(context)).as("what the meter reads").isEqualTo(dropped);

        release.countDown();
        appender.stop();
        String written;
        synchronized (sink) {
            written = sink.toString(StandardCharsets.UTF_8);
        }
        List<String> lines = written.lines().toList();
        assertThat(lines.size() + dropped).isEqualTo(total);
        assertThat(lines).first().isEqualTo("first");
        assertThat(lines).allMatch(l -> l.equals("first") || l.matches("line \\d+"));
        assertThat(warnings.toString(StandardCharsets.UTF_8)).contains("dropped " + dropped + " log lines");
    }

    @Test
    void aFailedWriteIsReportedAndCountedNeverThrown() throws Exception {
        appender = new BufferedLineAppender();
        appender.setContext(context);
        appender.setName("LINES");
        appender.setEncoder(pattern());
        appender.setOutput(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("No space left on device");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("No space left on device");
            }
        });
        appender.setFlushMillis(5);
        appender.setWarnings(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        appender.start();
        logger.addAppender(appender);
        logger.info("one");
        logger.info("two");
        waitFor(() -> appender.dropped() == 2);
        appender.stop();
        assertThat(warnings.toString(StandardCharsets.UTF_8)).contains("No space left on device").contains("dropped 2");
    }

    @Test
    void aLineLongerThanABufferIsWrittenWhole() throws Exception {
        Path file = dir.resolve("access.log");
        start(pattern(), file, 256, 4, TimeUnit.HOURS.toMillis(1));
        String big = "y".repeat(10_000);
        logger.info("before");
        logger.info(big);
        logger.info("after");
        appender.stop();
        assertThat(Files.readAllLines(file)).containsExactly("before", big, "after");
    }

    @Test
    void theJsonEncoderWritesOneObjectPerLine() throws Exception {
        JsonEncoder json = new JsonEncoder();
        json.setContext(context);
        json.setWithSequenceNumber(false);
        json.setWithContext(false);
        json.setWithMessage(false);
        json.setWithArguments(false);
        json.setWithFormattedMessage(true);
        json.start();
        Path file = dir.resolve("access.json");
        start(json, file, 1024, 64, 5);
        for (int i = 0; i < 50; i++) {
            logger.atInfo().addKeyValue("status", 302).addKeyValue("path", "/oauth/authorize").log("request {}", i);
        }
        appender.stop();
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(50);
        ObjectMapper mapper = new ObjectMapper();
        for (int i = 0; i < 50; i++) {
            JsonNode node = mapper.readTree(lines.get(i));
            assertThat(node.path("formattedMessage").asText()).isEqualTo("request " + i);
            assertThat(node.path("loggerName").asText()).isEqualTo("scopegate.access");
            assertThat(node.path("kvpList").toString()).contains("status", "302", "/oauth/authorize");
        }
    }

    @Test
    void theShippedConfigsUseItForAccessAndAuditOnly() throws Exception {
        for (String config : List.of("/logback.xml", "/logback-json.xml")) {
            LoggerContext shipped = new LoggerContext();
            shipped.setMDCAdapter(new LogbackMDCAdapter());
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(shipped);
            configurator.doConfigure(getClass().getResource(config));
            try {
                var lines = shipped.getLogger("scopegate.access").getAppender("LINES");
                assertThat(lines).as(config).isInstanceOf(BufferedLineAppender.class).isSameAs(
                        shipped.getLogger("scopegate.audit").getAppender("LINES"));
                assertThat(lines.isStarted()).as(config).isTrue();
                assertThat(shipped.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("OPS")).as(config)
                        .isInstanceOf(ch.qos.logback.core.ConsoleAppender.class);
                assertThat(BufferedLineAppender.droppedIn(shipped)).isZero();
            } finally {
                shipped.stop();
            }
        }
    }

    @Test
    void anotherLoggingBackendHasNothingDropped() {
        assertThat(BufferedLineAppender.droppedIn(new org.slf4j.helpers.NOPLoggerFactory())).isZero();
    }
}
