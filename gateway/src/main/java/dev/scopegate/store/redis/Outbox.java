package dev.scopegate.store.redis;

import dev.scopegate.model.Registration;
import dev.scopegate.store.RegistrationJson;
import dev.scopegate.store.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Writes that Redis could not take, kept on local disk until it can: one SQLite file,
 * {@code <dir>/redis-outbox.db}, WAL with {@code synchronous=FULL}, so a kept write survives
 * {@code kill -9} like the embedded store's. At most one entry per client, the latest; a delete is
 * an entry without a document. A copy of every entry lives in memory, so reads see kept writes
 * without touching the disk.
 *
 * <p>Threading: JDBC runs on one daemon thread ({@code scopegate-redis-outbox}); futures complete
 * there. The in-memory view may be read from any thread. Each replica needs its own file (its
 * own {@code store.path}).
 */
final class Outbox implements AutoCloseable {

    static final String FILE_NAME = "redis-outbox.db";

    private static final Logger log = LoggerFactory.getLogger(Outbox.class);

    /** A write waiting for Redis; {@code registration} null means "delete". */
    record Entry(String clientId, long seq, Registration registration, long at) {
    }

    private final Path file;
    private final ExecutorService thread;
    private final ConcurrentMap<String, Entry> entries = new ConcurrentHashMap<>();
    private Connection connection;
    private long nextSeq;

    /** Opens or creates the file and loads what an earlier run left. Blocks: call at startup. */
    Outbox(Path dir) {
        Objects.requireNonNull(dir, "dir");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the Redis outbox directory " + dir + ": " + e, e);
        }
        this.file = dir.resolve(FILE_NAME).toAbsolutePath();
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "scopegate-redis-outbox");
            t.setDaemon(true);
            return t;
        });
        try {
            run(this::open).join();
        } catch (RuntimeException e) {
            thread.shutdownNow();
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot open the Redis outbox " + file + ": " + cause.getMessage(), cause);
        }
    }

    Path file() {
        return file;
    }

    /** The kept write for {@code clientId}, or null. */
    Entry pending(String clientId) {
        return entries.get(clientId);
    }

    int size() {
        return entries.size();
    }

    /** Every kept write, oldest first. */
    List<Entry> snapshot() {
        List<Entry> all = new ArrayList<>(entries.values());
        all.sort(Comparator.comparingLong(Entry::seq));
        return all;
    }

    /**
     * Keeps a write (replacing an earlier one for the same client); completes once it is on disk.
     *
     * @param registration null for a delete
     * @param at           the change's time in epoch ms
     */
    CompletableFuture<Entry> keep(String clientId, Registration registration, long at) {
        Objects.requireNonNull(clientId, "clientId");
        String doc = registration == null ? null : RegistrationJson.toJson(registration);
        return run(() -> {
            Entry e = new Entry(clientId, nextSeq++, registration, at);
            try (PreparedStatement ps = connection.prepareStatement(
                    "INSERT INTO outbox(client_id, seq, doc, at) VALUES (?, ?, ?, ?) ON CONFLICT(client_id) "
                            + "DO UPDATE SET seq = excluded.seq, doc = excluded.doc, at = excluded.at")) {
                ps.setString(1, clientId);
                ps.setLong(2, e.seq());
                ps.setString(3, doc);
                ps.setLong(4, at);
                ps.executeUpdate();
            }
            entries.put(clientId, e);
            return e;
        });
    }

    /** Forgets {@code entry} once Redis has it, unless a later write for the client replaced it. */
    CompletableFuture<Void> done(Entry entry) {
        return run(() -> {
            try (PreparedStatement ps = connection.prepareStatement("DELETE FROM outbox WHERE client_id = ? AND seq = ?")) {
                ps.setString(1, entry.clientId());
                ps.setLong(2, entry.seq());
                ps.executeUpdate();
            }
            entries.remove(entry.clientId(), entry);
            return null;
        });
    }

    @Override
    public void close() {
        thread.execute(() -> {
            try {
                if (connection != null) {
                    connection.close();
                }
            } catch (SQLException e) {
                log.warn("closing the Redis outbox failed: {}", e.toString());
            }
        });
        thread.shutdown();
        try {
            if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            thread.shutdownNow();
        }
    }

    private Void open() throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(5_000);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        connection = config.createConnection("jdbc:sqlite:" + file);
        try (Statement st = connection.createStatement()) {
            st.executeUpdate("CREATE TABLE IF NOT EXISTS outbox (client_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, "
                    + "doc TEXT, at INTEGER NOT NULL)");
            long max = -1;
            int unreadable = 0;
            try (ResultSet rs = st.executeQuery("SELECT client_id, seq, doc, at FROM outbox")) {
                while (rs.next()) {
                    String clientId = rs.getString(1);
                    long seq = rs.getLong(2);
                    String doc = rs.getString(3);
                    max = Math.max(max, seq);
                    try {
                        Registration r = doc == null ? null : RegistrationJson.fromJson(doc);
                        entries.put(clientId, new Entry(clientId, seq, r, rs.getLong(4)));
                    } catch (IllegalArgumentException e) {
                        unreadable++;
                    }
                }
            }
            nextSeq = max + 1;
            if (unreadable > 0) {
                log.warn("Redis outbox {}: {} unreadable entries left in place", file, unreadable);
            }
        }
        if (!entries.isEmpty()) {
            log.info("Redis outbox {}: {} writes from an earlier run wait for Redis", file, entries.size());
        }
        return null;
    }

    private <T> CompletableFuture<T> run(SqlTask<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            thread.execute(() -> {
                try {
                    f.complete(task.run());
                } catch (Exception e) {
                    f.completeExceptionally(new StoreException("Redis outbox " + file + " failed: " + e, e));
                }
            });
        } catch (RejectedExecutionException e) {
            f.completeExceptionally(new StoreException("Redis outbox " + file + " is closed"));
        }
        return f;
    }

    @FunctionalInterface
    private interface SqlTask<T> {
        T run() throws Exception;
    }
}
