package dev.scopegate.store.embedded;

import dev.scopegate.metrics.MeterNames;
import dev.scopegate.model.Registration;
import dev.scopegate.store.StoreException;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.scopegate.store.embedded.SqliteRegistrationStoreTest.registration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Group commit on a real file: writes queued while a commit runs share the next one, a failing
 * write fails alone, a failing transaction fails its whole batch and not the next, order is
 * kept, and the queue is bounded. Batches are formed deterministically by holding the writer
 * inside a first write ({@link Gate}) while the others queue, and commits are counted through
 * the probe and the metric, never by timing.
 */
class GroupCommitTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void concurrentWritesShareCommits() throws Exception {
        Gate gate = new Gate();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir, gate)) {
            store.bindTo(registry);
            CompletableFuture<Void> first = gate.hold(() -> store.put(registration("first", "s")));
            List<CompletableFuture<?>> writes = new ArrayList<>();
            for (int i = 0; i < 63; i++) {
                writes.add(store.put(registration("c" + i, "s" + i)));
            }
            gate.release();
            first.get(10, TimeUnit.SECONDS);
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

            // 64 writes, 2 fsyncs: the first alone, the 63 that queued meanwhile together.
            assertThat(gate.commits.get()).isEqualTo(2);
            DistributionSummary batches = registry.get(MeterNames.STORE_COMMIT_BATCH_SIZE).summary();
            assertThat(batches.count()).isEqualTo(2);
            assertThat(batches.totalAmount()).isEqualTo(64);
            assertThat(batches.max()).isEqualTo(63);
            assertThat(store.count().join()).isEqualTo(64L);
            assertThat(store.get("c41").join()).map(Registration::scope).contains("s41");
        }
        // and on disk: a fresh store reads them back
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir)) {
            assertThat(store.count().join()).isEqualTo(64L);
        }
    }

    @Test
    void aLoneWriteIsCommittedAtOnceAndBatchesAreCapped() throws Exception {
        Gate gate = new Gate();
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir, gate, 100, 4)) {
            store.put(registration("alone", "s")).get(10, TimeUnit.SECONDS);
            assertThat(gate.commits.get()).isEqualTo(1);

            CompletableFuture<Void> first = gate.hold(() -> store.put(registration("first", "s")));
            List<CompletableFuture<?>> writes = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                writes.add(store.put(registration("c" + i, "s")));
            }
            gate.release();
            first.join();
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            // 1 (alone) + 1 (first) + ceil(10 / 4)
            assertThat(gate.commits.get()).isEqualTo(1 + 1 + 3);
        }
    }

    @Test
    void aFailingWriteFailsAloneAndTheRestOfItsBatchCommits() throws Exception {
        Gate gate = new Gate();
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir, gate)) {
            store.ping().join();
            sql(store, "CREATE TRIGGER refuse BEFORE INSERT ON registrations WHEN NEW.client_id = 'bad' "
                    + "BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END");
            CompletableFuture<Void> first = gate.hold(() -> store.put(registration("first", "s")));
            CompletableFuture<Void> a = store.put(registration("a", "s"));
            CompletableFuture<Void> bad = store.put(registration("bad", "s"));
            CompletableFuture<Boolean> deleteFirst = store.delete("first");
            CompletableFuture<Void> b = store.put(registration("b", "s"));
            gate.release();

            assertThat(bad).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
                    .withCauseInstanceOf(StoreException.class).withMessageContaining("refused by trigger");
            a.get(10, TimeUnit.SECONDS);
            b.get(10, TimeUnit.SECONDS);
            first.join();
            assertThat(deleteFirst.get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(gate.commits.get()).isEqualTo(2);
            assertThat(store.get("a").join()).isPresent();
            assertThat(store.get("b").join()).isPresent();
            assertThat(store.get("bad").join()).isEmpty();
            assertThat(store.get("first").join()).isEmpty();
        }
    }

    @Test
    void aFailedCommitFailsEveryMemberAndNotTheNextBatch() throws Exception {
        Gate gate = new Gate();
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir, gate)) {
            CompletableFuture<Void> first = gate.hold(() -> store.put(registration("first", "s")));
            gate.failCommit(gate.commits.get() + 1, "disk on fire");
            List<CompletableFuture<?>> doomed = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                doomed.add(store.put(registration("doomed" + i, "s")));
            }
            gate.release();
            // The held write's own batch takes the failure; the 5 queued meanwhile commit after it.
            assertThat(first).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
                    .withCauseInstanceOf(StoreException.class).withMessageContaining("disk on fire");
            CompletableFuture.allOf(doomed.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            assertThat(store.get("first").join()).isEmpty();
            assertThat(store.count().join()).isEqualTo(5L);

            // A whole batch failing: every member fails, none is stored, the next write lands.
            CompletableFuture<Void> second = gate.hold(() -> store.put(registration("second", "s")));
            List<CompletableFuture<?>> batch = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                batch.add(store.put(registration("batch" + i, "s")));
            }
            gate.failCommit(gate.commits.get() + 2, "disk on fire again"); // the batch's, after the held write's
            gate.release();
            second.get(10, TimeUnit.SECONDS);
            for (CompletableFuture<?> f : batch) {
                assertThat(f).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
                        .withCauseInstanceOf(StoreException.class).withMessageContaining("disk on fire again");
            }
            store.put(registration("after", "s")).get(10, TimeUnit.SECONDS);
            assertThat(store.get("after").join()).isPresent();
            assertThat(store.get("batch0").join()).isEmpty();
            assertThat(store.count().join()).isEqualTo(5L + 2);
        }
    }

    @Test
    void anErrorThatEndsTheTransactionFailsTheMembersBeforeIt() throws Exception {
        // RAISE(ROLLBACK) undoes the whole transaction, including the writes applied before it:
        // none of them may be reported as stored.
        Gate gate = new Gate();
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir, gate)) {
            store.ping().join();
            sql(store, "CREATE TRIGGER poison BEFORE INSERT ON registrations WHEN NEW.client_id = 'poison' "
                    + "BEGIN SELECT RAISE(ROLLBACK, 'poisoned'); END");
            CompletableFuture<Void> first = gate.hold(() -> store.put(registration("first", "s")));
            CompletableFuture<Void> a = store.put(registration("a", "s"));
            CompletableFuture<Void> poison = store.put(registration("poison", "s"));
            CompletableFuture<Void> b = store.put(registration("b", "s"));
            gate.release();
            first.get(10, TimeUnit.SECONDS);
            for (CompletableFuture<Void> f : List.of(a, poison, b)) {
                assertThat(f).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
                        .withCauseInstanceOf(StoreException.class);
            }
            assertThat(store.get("a").join()).isEmpty();
            assertThat(store.get("b").join()).isEmpty();
            store.put(registration("c", "s")).get(10, TimeUnit.SECONDS);
            assertThat(store.count().join()).isEqualTo(2L);
        }
    }

    @Test
    void writesForOneClientApplyInOrderWithinABatch() throws Exception {
        Gate gate = new Gate();
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir, gate)) {
            CompletableFuture<Void> first = gate.hold(() -> store.put(registration("first", "s")));
            CompletableFuture<Void> insert = store.put(registration("c1", "v1"));
            CompletableFuture<Void> update = store.put(registration("c1", "v2"));
            CompletableFuture<Boolean> delete = store.delete("c1");
            CompletableFuture<Boolean> deleteAgain = store.delete("c1");
            CompletableFuture<Void> reinsert = store.put(registration("c1", "v3"));
            CompletableFuture<Void> insert2 = store.put(registration("c2", "v1"));
            CompletableFuture<Void> update2 = store.put(registration("c2", "v2"));
            gate.release();
            CompletableFuture.allOf(first, insert, update, delete, deleteAgain, reinsert, insert2, update2)
                    .get(10, TimeUnit.SECONDS);
            assertThat(gate.commits.get()).isEqualTo(2);
            assertThat(delete.join()).isTrue();
            assertThat(deleteAgain.join()).isFalse();
            assertThat(store.get("c1").join()).map(Registration::scope).contains("v3");
            assertThat(store.get("c2").join()).map(Registration::scope).contains("v2");
        }
    }

    @Test
    void theQueueIsBoundedAndRefusesAtOnceWithoutBlocking() throws Exception {
        Gate gate = new Gate();
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir, gate, 4, 256)) {
            CompletableFuture<Void> first = gate.hold(() -> store.put(registration("first", "s")));
            List<CompletableFuture<Void>> queued = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                queued.add(store.put(registration("q" + i, "s")));
            }
            CompletableFuture<Void> refused = store.put(registration("refused", "s"));
            CompletableFuture<Boolean> refusedDelete = store.delete("q0");
            // Failed on the caller's thread, while the writer is still held.
            assertThat(refused).isCompletedExceptionally();
            assertThat(refusedDelete).isCompletedExceptionally();
            assertThat(refused).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
                    .withCauseInstanceOf(StoreException.class).withMessageContaining("4 writes already wait");
            gate.release();
            first.get(10, TimeUnit.SECONDS);
            CompletableFuture.allOf(queued.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            assertThat(store.count().join()).isEqualTo(5L);
            store.put(registration("later", "s")).get(10, TimeUnit.SECONDS); // room again
        }
    }

    @Test
    void closeFinishesQueuedWritesAndRefusesLaterOnes() throws Exception {
        Gate gate = new Gate();
        SqliteRegistrationStore store = new SqliteRegistrationStore(dir, gate);
        CompletableFuture<Void> first = gate.hold(() -> store.put(registration("first", "s")));
        CompletableFuture<Void> queued = store.put(registration("queued", "s"));
        Thread closer = new Thread(store::close);
        closer.start();
        // close() waits for the writer; the held write and the queued one still land
        gate.release();
        closer.join(10_000);
        assertThat(closer.isAlive()).isFalse();
        first.get(10, TimeUnit.SECONDS);
        queued.get(10, TimeUnit.SECONDS);
        assertThat(store.put(registration("late", "s"))).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(StoreException.class).withMessageContaining("closed");
        try (SqliteRegistrationStore reopened = new SqliteRegistrationStore(dir)) {
            assertThat(reopened.get("queued").join()).isPresent();
            assertThat(reopened.get("late").join()).isEqualTo(Optional.empty());
        }
    }

    private static void sql(SqliteRegistrationStore store, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store.file());
             Statement st = c.createStatement()) {
            st.executeUpdate(sql);
        }
    }

    /**
     * Counts commits and, once armed, holds the writer inside the next write until released, so
     * that everything submitted meanwhile queues behind it.
     */
    static final class Gate implements SqliteRegistrationStore.JdbcProbe {
        final AtomicInteger commits = new AtomicInteger();
        private volatile int failAt = -1;
        private volatile String failure;
        private final AtomicBoolean armed = new AtomicBoolean();
        private volatile CountDownLatch entered = new CountDownLatch(1);
        private volatile CountDownLatch released = new CountDownLatch(1);

        @Override
        public void beforeJdbc(String operation) {
            if (operation.equals("commit")) {
                if (commits.incrementAndGet() == failAt) {
                    throw new IllegalStateException(failure);
                }
            } else if (armed.compareAndSet(true, false)) {
                entered.countDown();
                try {
                    released.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** Submits {@code write} and returns once the writer holds inside it. */
        <T> CompletableFuture<T> hold(java.util.function.Supplier<CompletableFuture<T>> write) throws InterruptedException {
            entered = new CountDownLatch(1);
            released = new CountDownLatch(1);
            armed.set(true);
            CompletableFuture<T> f = write.get();
            assertThat(entered.await(10, TimeUnit.SECONDS)).as("writer entered the held write").isTrue();
            return f;
        }

        /** The {@code nth} commit (counting from the store's first) fails with {@code message}. */
        void failCommit(int nth, String message) {
            failure = message;
            failAt = nth;
        }

        void release() {
            released.countDown();
        }
    }
}
