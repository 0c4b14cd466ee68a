package dev.scopegate.store.embedded;

import dev.scopegate.store.StoreException;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * Group commit for the store's one writing connection: writes wait in a bounded queue; the
 * writer thread takes whatever queued while its last commit ran (at most {@code maxBatch}),
 * applies each in its own savepoint inside one transaction, commits once (one fsync for the
 * whole batch) and only then completes the futures. No timer: a lone write is committed as soon
 * as the writer is free, so it waits for nothing but its own fsync.
 *
 * <p>Failures: a write that fails (a constraint, a trigger) is rolled back to its savepoint and
 * fails alone; the others commit. When the transaction itself fails (the commit, a rollback to a
 * savepoint, an error that aborted the whole transaction), it is rolled back and every write of
 * the batch fails, since none is on disk; the next batch starts afresh. Writes are applied in
 * submission order, so an update after an insert of the same client stays after it.
 *
 * <p>{@link #submit} never blocks: when {@code maxPending} writes wait, it fails the future at
 * once (the caller answers 502, as for any store failure) instead of holding an event loop.
 * Thread-safe; {@link #run} is the writer thread's body.
 */
final class GroupCommitWriter {

    /** Writes that may wait for the writer; beyond, writes fail fast. */
    static final int DEFAULT_MAX_PENDING = 4096;
    /** Writes per transaction at most. */
    static final int DEFAULT_MAX_BATCH = 256;

    /** One write's SQL, run inside the batch's transaction; returns the future's value. */
    @FunctionalInterface
    interface Op<T> {
        T apply(Session session) throws SQLException;
    }

    private static final Object STOP = new Object();

    private final String name;
    private final Supplier<Session> session;
    private final SqliteRegistrationStore.JdbcProbe probe;
    private final int maxPending;
    private final int maxBatch;
    /** Writes and, last, {@link #STOP}; unbounded so STOP always fits, the bound is kept by {@link #submit}. */
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Object lock = new Object();
    private boolean closed;
    private volatile IntConsumer onCommit = size -> { };

    /**
     * @param name    for messages (the database file)
     * @param session the writer thread's session; may throw {@link StoreException} when it could not open
     */
    GroupCommitWriter(String name, Supplier<Session> session, SqliteRegistrationStore.JdbcProbe probe,
                      int maxPending, int maxBatch) {
        if (maxPending < 1 || maxBatch < 1) {
            throw new IllegalArgumentException("maxPending and maxBatch must be positive");
        }
        this.name = Objects.requireNonNull(name, "name");
        this.session = Objects.requireNonNull(session, "session");
        this.probe = Objects.requireNonNull(probe, "probe");
        this.maxPending = maxPending;
        this.maxBatch = maxBatch;
    }

    /** Told the size of each committed batch, on the writer thread. */
    void onCommit(IntConsumer listener) {
        this.onCommit = Objects.requireNonNull(listener, "listener");
    }

    /** Writes waiting for the writer (not counting the batch being committed). */
    int pending() {
        return queue.size();
    }

    <T> CompletableFuture<T> submit(String operation, Op<T> op) {
        Write<T> write = new Write<>(operation, op);
        synchronized (lock) {
            if (closed) {
                write.future.completeExceptionally(new StoreException("registration store " + name + " is closed"));
            } else if (queue.size() >= maxPending) {
                write.future.completeExceptionally(new StoreException("registration store " + operation
                        + " refused: " + maxPending + " writes already wait for the disk"));
            } else {
                queue.add(write);
            }
        }
        return write.future;
    }

    /** Refuses later writes; the writer finishes those already queued, then {@link #run} returns. */
    void stop() {
        synchronized (lock) {
            if (!closed) {
                closed = true;
                queue.add(STOP);
            }
        }
    }

    /** The writer thread's loop; returns after {@link #stop} once the queue is done, or when interrupted. */
    void run() {
        List<Object> taken = new ArrayList<>();
        List<Write<?>> batch = new ArrayList<>();
        try {
            while (true) {
                taken.add(queue.take());
                queue.drainTo(taken, maxBatch - 1);
                boolean stop = false;
                for (Object o : taken) {
                    if (o == STOP) {
                        stop = true; // always last: nothing is queued after it
                    } else {
                        batch.add((Write<?>) o);
                    }
                }
                taken.clear();
                if (!batch.isEmpty()) {
                    commit(batch);
                    batch.clear();
                }
                if (stop) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            // close() gave up waiting: whatever is still queued will never be written.
            synchronized (lock) {
                closed = true;
            }
            StoreException gone = new StoreException("registration store " + name + " is closed");
            batch.forEach(w -> w.future.completeExceptionally(gone));
            for (Object o : queue) {
                if (o instanceof Write<?> w) {
                    w.future.completeExceptionally(gone);
                }
            }
            queue.clear();
            Thread.currentThread().interrupt();
        }
    }

    private void commit(List<Write<?>> batch) {
        Throwable batchFailure = null;
        boolean committed = false;
        Session s = null;
        try {
            s = session.get();
            s.exec("BEGIN IMMEDIATE");
            boolean anyApplied = false;
            for (Write<?> w : batch) {
                s.exec("SAVEPOINT w");
                try {
                    probe.beforeJdbc(w.operation);
                    w.apply(s);
                    anyApplied = true;
                } catch (SQLException | RuntimeException e) {
                    w.failure = failure(w.operation, e);
                    // Throws when the error ended the whole transaction: then the batch fails.
                    s.exec("ROLLBACK TO w");
                }
                s.exec("RELEASE w");
            }
            if (anyApplied) {
                probe.beforeJdbc("commit");
                s.exec("COMMIT");
                committed = true;
            } else {
                s.exec("ROLLBACK");
            }
        } catch (SQLException | RuntimeException | Error e) {
            // An Error too: the writer thread must outlive it, or every later write would hang.
            batchFailure = e;
            if (s != null && s.openFailure == null) {
                try {
                    s.exec("ROLLBACK");
                } catch (SQLException | RuntimeException ignored) {
                    // no transaction left to roll back: the error already ended it
                }
            }
        }
        if (committed) {
            try {
                onCommit.accept(batch.size());
            } catch (RuntimeException e) {
                // a meter must never leave a committed batch's futures uncompleted
            }
        }
        for (Write<?> w : batch) {
            if (w.failure != null) {
                w.future.completeExceptionally(w.failure);
            } else if (batchFailure != null) {
                w.future.completeExceptionally(failure(w.operation, batchFailure));
            } else {
                w.complete();
            }
        }
    }

    private static Throwable failure(String operation, Throwable e) {
        return e instanceof StoreException ? e : new StoreException("registration store " + operation + " failed: " + e, e);
    }

    private static final class Write<T> {
        final String operation;
        final Op<T> op;
        final CompletableFuture<T> future = new CompletableFuture<>();
        T result;
        Throwable failure;

        Write(String operation, Op<T> op) {
            this.operation = operation;
            this.op = op;
        }

        void apply(Session s) throws SQLException {
            result = op.apply(s);
        }

        void complete() {
            future.complete(result);
        }
    }
}
