// Over 400 lines: the buffered, non-blocking log appender (queue, flusher thread, drop accounting, Logback lifecycle) is one unit.
package dev.scopegate.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.encoder.Encoder;
import org.slf4j.ILoggerFactory;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An appender for the high-volume lines (access, audit) that costs the logging thread a copy,
 * never a system call nor a thread wake-up per line: nginx's {@code access_log … buffer=64k flush=1s}.
 *
 * <p>{@link #append} runs on the logging thread (an event loop): it encodes the event there and
 * copies the bytes into the current buffer under a short lock. A full buffer goes to one daemon
 * writer thread ({@value #WRITER_THREAD}), woken once per full buffer; the writer also writes
 * whatever is buffered every {@code flushMillis}, so a quiet process shows its lines within that
 * time; with nothing buffered it sleeps until a line comes (no timed wake-ups while idle). A buffer holds whole lines and buffers are written in order, one at a time: a line never
 * splits across writes nor interleaves with another.
 *
 * <p>Memory is bounded: at most {@code maxBuffers} buffers of {@code bufferSize} bytes exist. When
 * the writer falls that far behind (a slow disk, a reader not draining stdout) lines are dropped,
 * never waited for: {@link #dropped()} counts them and the writer reports them on stderr at most
 * once every ten seconds. A failed write is reported the same way (its lines count as dropped)
 * and never reaches the logging thread.
 *
 * <p>{@link #stop()} writes everything buffered before it returns (Logback stops its appenders
 * when its context stops). When the JVM exits without that, a shutdown hook writes what is
 * buffered, and lines logged after it are written by the logging thread itself.
 *
 * <p>Properties (Logback XML, set before {@link #start()}): {@code encoder} (required; started by
 * Logback; called by several logging threads at once, which {@link LineEncoder}, Logback's {@code PatternLayoutEncoder}
 * and {@code JsonEncoder} allow), {@code target} ({@code System.out}, the default, or {@code System.err}), {@code file}
 * (a path, opened in append mode; wins over {@code target}), {@code bufferSize} (bytes, 65536),
 * {@code maxBuffers} (16), {@code flushMillis} (1000).
 *
 * <p>Threading: {@code append} from any number of threads; {@code start}/{@code stop} from one.
 */
public final class BufferedLineAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {

    /** The name of the writer thread (one per started appender). */
    public static final String WRITER_THREAD = "scopegate-log-writer";
    static final long REPORT_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** How long stop() and the exit hook wait for a write in progress (a stdout nobody reads). */
    private static final long STOP_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

    private Encoder<ILoggingEvent> encoder;
    private String target = "System.out";
    private String file;
    private int bufferSize = 64 * 1024;
    private int maxBuffers = 16;
    private long flushMillis = 1000;
    private PrintStream warnings = System.err;
    private OutputStream output; // tests: replaces the target

    /** Guards the buffers below; held for a copy at most, never for a write. */
    private final Object lock = new Object();
    private Chunk current;
    private final ArrayDeque<Chunk> full = new ArrayDeque<>();
    private final ArrayDeque<Chunk> spare = new ArrayDeque<>();
    private int allocated;
    private boolean stopping;
    private boolean exiting;
    /** The writer waits without a deadline: nothing is buffered. */
    private boolean idle;

    /** Held while writing: one writer at a time, buffers in queue order. */
    private final ReentrantLock writing = new ReentrantLock();
    private OutputStream out;
    private boolean ownsOut;
    private String outName;

    /** A filter was added: every line goes through Logback's event path, which applies it. */
    private volatile boolean filtered;

    private final AtomicLong dropped = new AtomicLong();
    private volatile String lastError;
    private long reportedDropped;
    private String reportedError;
    private long lastReport;
    private Thread writer;
    private Thread exitHook;

    // ---- configuration ----

    public void setEncoder(Encoder<ILoggingEvent> encoder) {
        this.encoder = encoder;
    }

    public Encoder<ILoggingEvent> getEncoder() {
        return encoder;
    }

    /** {@code System.out} (also {@code stdout}) or {@code System.err} (also {@code stderr}). */
    public void setTarget(String target) {
        this.target = target;
    }

    /** A file to append to instead of {@code target}; its directory is created when missing. */
    public void setFile(String file) {
        this.file = file == null || file.isBlank() ? null : file;
    }

    public void setBufferSize(int bufferSize) {
        this.bufferSize = bufferSize;
    }

    public void setMaxBuffers(int maxBuffers) {
        this.maxBuffers = maxBuffers;
    }

    public void setFlushMillis(long flushMillis) {
        this.flushMillis = flushMillis;
    }

    /** Tests: where drops and write errors are reported (stderr by default). */
    void setWarnings(PrintStream warnings) {
        this.warnings = warnings;
    }

    /** Tests: write here instead of the target; not closed by {@link #stop()}. */
    void setOutput(OutputStream output) {
        this.output = output;
    }

    /** Lines dropped since start: the writer was behind, a line did not encode, or a write failed. */
    public long dropped() {
        return dropped.get();
    }

    /**
     * Lines dropped by every {@code BufferedLineAppender} attached to a logger of {@code factory}
     * (0 when it is not Logback's): for a meter read at scrape time, so it follows reconfiguration.
     */
    public static long droppedIn(ILoggerFactory factory) {
        if (!(factory instanceof LoggerContext context)) {
            return 0;
        }
        Set<BufferedLineAppender> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        long sum = 0;
        for (Logger logger : context.getLoggerList()) {
            for (Iterator<Appender<ILoggingEvent>> it = logger.iteratorForAppenders(); it.hasNext(); ) {
                if (it.next() instanceof BufferedLineAppender b && seen.add(b)) {
                    sum += b.dropped();
                }
            }
        }
        return sum;
    }

    // ---- life cycle ----

    @Override
    public void start() {
        if (isStarted()) {
            return;
        }
        if (encoder == null) {
            fail("no encoder");
            return;
        }
        if (bufferSize < 256 || maxBuffers < 2 || flushMillis < 1) {
            fail("bufferSize must be >= 256, maxBuffers >= 2, flushMillis >= 1");
            return;
        }
        try {
            openOutput();
        } catch (IOException | RuntimeException e) {
            fail("cannot open " + file + ": " + e);
            return;
        }
        synchronized (lock) {
            current = null;
            full.clear();
            spare.clear();
            allocated = 0;
            stopping = false;
            exiting = false;
            byte[] header = encoder.headerBytes();
            if (header != null && header.length > 0) {
                put(header);
            }
        }
        lastReport = System.nanoTime() - REPORT_INTERVAL_NANOS;
        writer = new Thread(this::writeLoop, WRITER_THREAD);
        writer.setDaemon(true);
        writer.start();
        exitHook = new Thread(this::flushAtExit, WRITER_THREAD + "-exit");
        try {
            Runtime.getRuntime().addShutdownHook(exitHook);
        } catch (IllegalStateException shuttingDown) {
            exitHook = null;
        }
        super.start();
    }

    /** Writes everything buffered (and the encoder's footer), then ends the writer thread. */
    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        super.stop(); // no new appends from here
        synchronized (lock) {
            byte[] footer = encoder.footerBytes();
            if (footer != null && footer.length > 0) {
                put(footer);
            }
            seal();
            stopping = true;
            lock.notifyAll();
        }
        if (!drain(STOP_WAIT_NANOS)) {
            abandon();
        }
        join(writer);
        writer = null;
        Thread hook = exitHook;
        exitHook = null;
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs or ran: nothing left for it to write
            }
        }
        report(true);
        if (ownsOut) {
            try {
                out.close();
            } catch (IOException e) {
                warnings.println("scopegate: closing " + outName + ": " + e);
            }
        }
        out = null;
    }

    // ---- the logging thread ----

    @Override
    protected void append(ILoggingEvent event) {
        byte[] line;
        try {
            line = encoder.encode(event);
        } catch (RuntimeException e) {
            lastError = "cannot encode a line: " + e;
            dropped.incrementAndGet();
            return;
        }
        appendBytes(line);
    }

    /**
     * Appends the line an INFO event of {@code loggerName} with {@code message} would be encoded
     * to now, without building the event (see {@link Lines}): only when this appender is started,
     * has no filters and encodes with a {@link LineEncoder}, whose line depends on nothing else.
     *
     * @return false, with nothing appended, when any of that is not so
     */
    public boolean appendLine(String loggerName, String message) {
        if (!(encoder instanceof LineEncoder lines) || filtered || !isStarted()) {
            return false;
        }
        appendBytes(lines.encode(System.currentTimeMillis(), loggerName, message));
        return true;
    }

    @Override
    public void addFilter(Filter<ILoggingEvent> newFilter) {
        filtered = true; // appendLine would skip it: events only from here on
        super.addFilter(newFilter);
    }

    @Override
    public void clearAllFilters() {
        super.clearAllFilters();
        filtered = false;
    }

    private void appendBytes(byte[] line) {
        if (line == null || line.length == 0) {
            return;
        }
        boolean writeNow;
        synchronized (lock) {
            if (stopping || !put(line)) {
                dropped.incrementAndGet();
                return;
            }
            writeNow = exiting;
            if (writeNow) {
                seal();
            }
        }
        if (writeNow) {
            drain(STOP_WAIT_NANOS); // the JVM is exiting: nobody else will write this line
        }
    }

    /** Copies {@code line} into the current buffer, sealing it when full; false when no buffer is free. */
    private boolean put(byte[] line) {
        Chunk c = current;
        if (c != null && c.bytes.length - c.length < line.length) {
            seal();
            c = null;
        }
        if (c == null) {
            c = take(line.length);
            if (c == null) {
                return false;
            }
            current = c;
            if (idle) {
                lock.notifyAll(); // the writer sleeps without a deadline: start its flush interval
            }
        }
        System.arraycopy(line, 0, c.bytes, c.length, line.length);
        c.length += line.length;
        c.lines++;
        return true;
    }

    /** A free buffer of at least {@code size} bytes, or null when {@code maxBuffers} are in use. */
    private Chunk take(int size) {
        if (size <= bufferSize) {
            Chunk c = spare.poll();
            if (c != null) {
                return c;
            }
        }
        if (allocated >= maxBuffers) {
            return null;
        }
        allocated++;
        return new Chunk(Math.max(size, bufferSize)); // a line longer than a buffer gets one of its own
    }

    /** Hands the current buffer, if it holds anything, to the writer. */
    private void seal() {
        Chunk c = current;
        if (c != null && c.length > 0) {
            full.add(c);
            current = null;
            lock.notifyAll(); // once per buffer, never per line
        }
    }

    // ---- the writer ----

    private void writeLoop() {
        long flushNanos = TimeUnit.MILLISECONDS.toNanos(flushMillis);
        long nextFlush = System.nanoTime() + flushNanos;
        try {
            while (true) {
                synchronized (lock) {
                    boolean tick = false;
                    while (full.isEmpty() && !stopping && !tick) {
                        if (current == null || current.length == 0) {
                            // Nothing buffered: no deadline to keep, so no timed wake-ups while idle
                            // (each one would preempt the event loop on a shared core). The first
                            // line into an empty buffer wakes this thread (put), once.
                            idle = true;
                            lock.wait();
                            idle = false;
                            nextFlush = System.nanoTime() + flushNanos;
                            continue;
                        }
                        long now = System.nanoTime();
                        if (now - nextFlush >= 0) {
                            nextFlush = now + flushNanos;
                            seal();
                            tick = true;
                        } else {
                            lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextFlush - now)));
                        }
                    }
                    if (stopping) {
                        return; // stop() writes what is left, on its own thread
                    }
                }
                drain(Long.MAX_VALUE);
                report(false);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            warnings.println("scopegate: log writer failed: " + t);
        }
    }

    /** Writes every full buffer, in order; false when another write held on past {@code waitNanos}. */
    private boolean drain(long waitNanos) {
        try {
            if (waitNanos == Long.MAX_VALUE) {
                writing.lock();
            } else if (!writing.tryLock(waitNanos, TimeUnit.NANOSECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        try {
            while (true) {
                Chunk c;
                synchronized (lock) {
                    c = full.poll();
                }
                if (c == null) {
                    return true;
                }
                write(c);
                synchronized (lock) {
                    if (c.bytes.length == bufferSize) {
                        c.length = 0;
                        c.lines = 0;
                        spare.push(c);
                    } else {
                        allocated--;
                    }
                }
            }
        } finally {
            writing.unlock();
        }
    }

    private void write(Chunk c) {
        OutputStream o = out;
        try {
            if (o == null) {
                throw new IOException("stopped");
            }
            o.write(c.bytes, 0, c.length);
            o.flush();
        } catch (IOException | RuntimeException e) {
            dropped.addAndGet(c.lines);
            lastError = "cannot write log lines to " + outName + ": " + e;
        }
    }

    /** Reports new drops and errors on stderr, at most once per interval unless {@code now}. */
    private synchronized void report(boolean now) {
        long t = System.nanoTime();
        if (!now && t - lastReport < REPORT_INTERVAL_NANOS) {
            return;
        }
        long d = dropped.get();
        String error = lastError;
        if (d == reportedDropped && (error == null || error.equals(reportedError))) {
            return;
        }
        if (error != null && !error.equals(reportedError)) {
            warnings.println("scopegate: " + error);
        }
        if (d != reportedDropped) {
            warnings.println("scopegate: dropped " + (d - reportedDropped) + " log lines for " + outName
                    + " (" + d + " in all): the log writer is behind or failing");
        }
        reportedDropped = d;
        reportedError = error;
        lastReport = t;
    }

    /** After a write that did not end in time (a stdout nobody reads): counts what is left as dropped. */
    private void abandon() {
        long lines = 0;
        synchronized (lock) {
            for (Chunk c : full) {
                lines += c.lines;
            }
            full.clear();
        }
        dropped.addAndGet(lines);
        lastError = "a write to " + outName + " did not end in time; " + lines + " buffered lines were not written";
    }

    /** Shutdown hook: writes what is buffered; lines logged later are written by their own thread. */
    private void flushAtExit() {
        synchronized (lock) {
            exiting = true;
            seal();
        }
        drain(STOP_WAIT_NANOS);
        report(true);
    }

    private void openOutput() throws IOException {
        if (output != null) {
            out = output;
            ownsOut = false;
            outName = "the test output";
        } else if (file != null) {
            Path path = Path.of(file);
            Path dir = path.toAbsolutePath().getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
            out = new FileOutputStream(path.toFile(), true);
            ownsOut = true;
            outName = file;
        } else {
            String t = target == null ? "" : target.trim().toLowerCase(Locale.ROOT);
            boolean err = t.equals("system.err") || t.equals("stderr");
            if (!err && !t.equals("system.out") && !t.equals("stdout")) {
                throw new IllegalArgumentException("target must be System.out or System.err, not " + target);
            }
            // Straight to the file descriptor: no PrintStream lock, and never closed (other code shares it).
            out = new FileOutputStream(err ? FileDescriptor.err : FileDescriptor.out);
            ownsOut = false;
            outName = err ? "stderr" : "stdout";
        }
    }

    private void fail(String why) {
        addError(why);
        warnings.println("scopegate: log appender " + getName() + " not started: " + why);
    }

    private void join(Thread t) {
        boolean interrupted = false;
        long deadline = System.nanoTime() + STOP_WAIT_NANOS;
        while (t.isAlive()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** A buffer of whole lines. */
    private static final class Chunk {
        final byte[] bytes;
        int length;
        int lines;

        Chunk(int size) {
            bytes = new byte[size];
        }
    }
}
