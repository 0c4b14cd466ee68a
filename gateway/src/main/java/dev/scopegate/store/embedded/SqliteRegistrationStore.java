package dev.scopegate.store.embedded;

import dev.scopegate.metrics.MeterNames;
import dev.scopegate.model.Registration;
import dev.scopegate.store.RegistrationJson;
import dev.scopegate.store.RegistrationStore;
import dev.scopegate.store.StoreException;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Registrations in one SQLite file, {@code <dir>/scopegate.db}, in WAL mode with
 * {@code synchronous=FULL}: a write's future completes normally only once the transaction holding
 * it is committed and fsynced, so it survives {@code kill -9} or a power cut. Concurrent writes
 * share that fsync ({@link GroupCommitWriter}: whatever queued while the last commit ran is
 * committed together, each write in its own savepoint).
 *
 * <p>Threading: all JDBC runs on the store's own daemon threads, never on the caller's: one
 * writer thread ({@code scopegate-store-writer}) owns the only writing connection, so writes are
 * applied in the order they were submitted; two reader threads ({@code scopegate-store-reader-N})
 * share a queue and have a read-only connection each, which WAL lets run beside the writer.
 * Futures complete on those threads; callers hop back to their own executor and must not block
 * there. At most {@link GroupCommitWriter#DEFAULT_MAX_PENDING} writes wait (more fail at once);
 * the read queue is unbounded: the hot path reads through a cache, so the store sees only misses.
 * Every method may be called from any thread.
 *
 * <p>Schema: {@code registrations(client_id TEXT PRIMARY KEY, doc TEXT NOT NULL, updated_at
 * INTEGER NOT NULL)}, {@code doc} being {@link RegistrationJson}, {@code updated_at} epoch millis;
 * {@code PRAGMA user_version} holds the schema version.
 */
public final class SqliteRegistrationStore implements RegistrationStore {

    /** The database file's name inside the store directory. */
    public static final String FILE_NAME = "scopegate.db";

    static final int SCHEMA_VERSION = 1;

    private static final Logger log = LoggerFactory.getLogger(SqliteRegistrationStore.class);
    private static final int READERS = 2;
    private static final long CLOSE_TIMEOUT_SECONDS = 10;

    private static final String SELECT_ONE = "SELECT doc FROM registrations WHERE client_id = ?";
    private static final String UPSERT = "INSERT INTO registrations(client_id, doc, updated_at) VALUES (?, ?, ?) "
            + "ON CONFLICT(client_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at";
    private static final String DELETE = "DELETE FROM registrations WHERE client_id = ?";
    private static final String COUNT = "SELECT count(*) FROM registrations";
    private static final String PING = "SELECT 1 FROM registrations LIMIT 1";

    private final Path file;
    private final JdbcProbe probe;
    private final ThreadLocal<Session> sessions = new ThreadLocal<>();
    private final GroupCommitWriter writer;
    private final Thread writerThread;
    private final CompletableFuture<Void> schemaReady = new CompletableFuture<>();
    private final ThreadPoolExecutor readers;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Joined on close: a pool reports termination before its threads have closed their connections. */
    private final List<Thread> threads = new CopyOnWriteArrayList<>();

    /**
     * Opens (creating if needed) {@code <dir>/scopegate.db}. Blocks the calling thread until the
     * schema is ready: call it at startup, not on an event loop.
     *
     * @throws IllegalStateException naming the file if the directory or database cannot be opened,
     *                               or if the file was written by a newer schema version
     */
    public SqliteRegistrationStore(Path dir) {
        this(dir, operation -> { });
    }

    SqliteRegistrationStore(Path dir, JdbcProbe probe) {
        this(dir, probe, GroupCommitWriter.DEFAULT_MAX_PENDING, GroupCommitWriter.DEFAULT_MAX_BATCH);
    }

    SqliteRegistrationStore(Path dir, JdbcProbe probe, int maxPendingWrites, int maxBatch) {
        Objects.requireNonNull(dir, "dir");
        this.probe = Objects.requireNonNull(probe, "probe");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create registration store directory " + dir + ": " + e, e);
        }
        this.file = dir.resolve(FILE_NAME).toAbsolutePath();
        this.writer = new GroupCommitWriter(file.toString(), this::session, probe, maxPendingWrites, maxBatch);
        this.writerThread = storeThread("scopegate-store-writer", () -> runWithSession(this::initThenWrite, false));
        this.readers = pool(READERS, "reader", true);
        writerThread.start();
        try {
            schemaReady.join();
        } catch (CompletionException e) {
            stopThreads();
            Throwable cause = e.getCause() instanceof StoreException && e.getCause().getCause() != null
                    ? e.getCause().getCause() : e.getCause();
            throw new IllegalStateException("cannot open registration store " + file + ": " + cause.getMessage(), cause);
        }
        // Readers open their connections only once the writer has created the file and schema.
        readers.prestartAllCoreThreads();
    }

    /**
     * Publishes {@code scopegate_store_commit_batch_size} (writes per committed transaction; its
     * count is the number of commits, i.e. of fsyncs) and {@code scopegate_store_write_queue}.
     */
    public void bindTo(MeterRegistry registry) {
        DistributionSummary batches = DistributionSummary.builder(MeterNames.STORE_COMMIT_BATCH_SIZE)
                .description("Registration store writes per committed transaction (one fsync each)")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256)
                .register(registry);
        Gauge.builder(MeterNames.STORE_WRITE_QUEUE, writer, GroupCommitWriter::pending)
                .description("Registration store writes waiting for the writer").register(registry);
        writer.onCommit(batches::record);
    }

    /** The database file, for logs and operators. */
    public Path file() {
        return file;
    }

    @Override
    public CompletableFuture<Optional<Registration>> get(String clientId) {
        Objects.requireNonNull(clientId, "clientId");
        return submit(readers, "get", s -> {
            PreparedStatement ps = s.prepare(SELECT_ONE);
            ps.setString(1, clientId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                String doc = rs.getString(1);
                try {
                    return Optional.of(RegistrationJson.fromJson(doc));
                } catch (IllegalArgumentException e) {
                    throw new StoreException("stored registration is unreadable: " + e.getMessage(), e);
                }
            }
        });
    }

    @Override
    public CompletableFuture<Void> put(Registration registration) {
        Objects.requireNonNull(registration, "registration");
        String doc = RegistrationJson.toJson(registration);
        return writer.submit("put", s -> {
            upsert(s, registration, doc);
            return null;
        });
    }

    /** Stores all in one transaction, all or none: one fsync instead of one per registration. */
    @Override
    public CompletableFuture<Void> putAll(List<Registration> registrations) {
        List<Registration> all = List.copyOf(registrations);
        List<String> docs = all.stream().map(RegistrationJson::toJson).toList();
        return writer.submit("putAll", s -> {
            for (int i = 0; i < all.size(); i++) {
                upsert(s, all.get(i), docs.get(i));
            }
            return null;
        });
    }

    @Override
    public CompletableFuture<Boolean> delete(String clientId) {
        Objects.requireNonNull(clientId, "clientId");
        return writer.submit("delete", s -> {
            PreparedStatement ps = s.prepare(DELETE);
            ps.setString(1, clientId);
            return ps.executeUpdate() > 0;
        });
    }

    @Override
    public CompletableFuture<Void> ping() {
        return submit(readers, "ping", s -> {
            try (ResultSet rs = s.prepare(PING).executeQuery()) {
                rs.next();
            }
            return null;
        });
    }

    @Override
    public CompletableFuture<Long> count() {
        return submit(readers, "count", s -> {
            try (ResultSet rs = s.prepare(COUNT).executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /**
     * Lets queued writes finish, stops the threads and closes the connections (which checkpoints
     * the WAL into the main file). Later calls fail their futures. Idempotent; when called from a
     * store thread it does not wait for the others to stop.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            stopThreads();
        }
    }

    private void stopThreads() {
        // Readers first, the writer last: the last connection to close checkpoints the WAL into the
        // database and deletes it, which a read-only connection cannot do.
        readers.shutdown();
        if (sessions.get() != null) {
            writer.stop();
            return; // awaiting our own thread's termination would wait out the timeout
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CLOSE_TIMEOUT_SECONDS);
        try {
            for (Thread t : threads) {
                long left = deadline - System.nanoTime();
                if (left > 0 && t.getName().contains("-reader")) {
                    TimeUnit.NANOSECONDS.timedJoin(t, left);
                }
            }
            writer.stop();
            for (Thread t : threads) {
                long left = deadline - System.nanoTime();
                if (left > 0) {
                    TimeUnit.NANOSECONDS.timedJoin(t, left);
                }
            }
            if (threads.stream().anyMatch(Thread::isAlive)) {
                log.warn("registration store threads did not stop within {}s", CLOSE_TIMEOUT_SECONDS);
                writerThread.interrupt();
                readers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            writer.stop();
            writerThread.interrupt();
            readers.shutdownNow();
        }
    }

    /** The writer thread: the schema first (the constructor waits for it), then the write loop until stopped. */
    private void initThenWrite() {
        try {
            probe.beforeJdbc("init");
            initSchema(session());
            schemaReady.complete(null);
        } catch (StoreException e) {
            schemaReady.completeExceptionally(e);
        } catch (Exception e) {
            schemaReady.completeExceptionally(new StoreException("registration store init failed: " + e, e));
        } catch (Error e) {
            schemaReady.completeExceptionally(e);
            throw e;
        }
        writer.run();
    }

    private void initSchema(Session s) throws SQLException {
        try (Statement st = s.connection.createStatement()) {
            try (ResultSet rs = st.executeQuery("PRAGMA journal_mode")) {
                String mode = rs.next() ? rs.getString(1) : "?";
                if (!"wal".equalsIgnoreCase(mode)) {
                    log.warn("registration store {} runs in journal mode {} instead of WAL", file, mode);
                }
            }
            int version;
            try (ResultSet rs = st.executeQuery("PRAGMA user_version")) {
                version = rs.next() ? rs.getInt(1) : 0;
            }
            if (version > SCHEMA_VERSION) {
                throw new SQLException("schema version " + version + " is newer than this scopegate supports ("
                        + SCHEMA_VERSION + ")");
            }
            if (version < SCHEMA_VERSION) {
                s.connection.setAutoCommit(false);
                try {
                    st.executeUpdate("CREATE TABLE IF NOT EXISTS registrations ("
                            + "client_id TEXT PRIMARY KEY, doc TEXT NOT NULL, updated_at INTEGER NOT NULL)");
                    st.executeUpdate("PRAGMA user_version = " + SCHEMA_VERSION);
                    s.connection.commit();
                } catch (SQLException e) {
                    s.connection.rollback();
                    throw e;
                } finally {
                    s.connection.setAutoCommit(true);
                }
            }
        }
    }

    private static void upsert(Session s, Registration r, String doc) throws SQLException {
        PreparedStatement ps = s.prepare(UPSERT);
        ps.setString(1, r.clientId());
        ps.setString(2, doc);
        ps.setLong(3, r.updatedAt().toEpochMilli());
        ps.executeUpdate();
    }

    private <T> CompletableFuture<T> submit(ThreadPoolExecutor executor, String operation, SqlTask<T> task) {
        CompletableFuture<T> future = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    probe.beforeJdbc(operation);
                    future.complete(task.run(session()));
                } catch (StoreException e) {
                    future.completeExceptionally(e);
                } catch (Exception e) {
                    future.completeExceptionally(new StoreException("registration store " + operation + " failed: " + e, e));
                } catch (Error e) {
                    future.completeExceptionally(e);
                    throw e;
                }
            });
        } catch (RejectedExecutionException e) {
            future.completeExceptionally(new StoreException("registration store " + file + " is closed"));
        }
        return future;
    }

    private Session session() {
        Session s = sessions.get();
        if (s == null) {
            throw new IllegalStateException("not on a registration store thread");
        }
        if (s.openFailure != null) {
            throw new StoreException("cannot open " + file + ": " + s.openFailure.getMessage(), s.openFailure);
        }
        return s;
    }

    private ThreadPoolExecutor pool(int size, String role, boolean readOnly) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = worker -> storeThread("scopegate-store-" + role + "-" + n.incrementAndGet(),
                () -> runWithSession(worker, readOnly));
        return new ThreadPoolExecutor(size, size, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), factory);
    }

    private Thread storeThread(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        threads.add(t);
        return t;
    }

    /** Each store thread owns one connection for its whole life: opened first, closed last. */
    private void runWithSession(Runnable worker, boolean readOnly) {
        Session session = Session.open(file, readOnly);
        sessions.set(session);
        try {
            worker.run();
        } finally {
            sessions.remove();
            session.close();
        }
    }

    @FunctionalInterface
    private interface SqlTask<T> {
        T run(Session session) throws SQLException;
    }

    /** Test seam: told, on the thread that is about to run JDBC, which operation it runs. */
    @FunctionalInterface
    interface JdbcProbe {
        void beforeJdbc(String operation);
    }
}
