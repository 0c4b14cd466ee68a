package dev.scopegate.store.embedded;

import dev.scopegate.model.Registration;
import dev.scopegate.store.StoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SqliteRegistrationStoreTest {

    private static final Instant T0 = Instant.parse("2025-11-25T10:15:30.123456789Z");

    @TempDir
    Path dir;

    static Registration registration(String id, String scope) {
        return new Registration(id, scope, List.of("https://chatgpt.com/connector_platform_oauth_redirect"),
                List.of("authorization_code", "refresh_token"), "ChatGPT", "https://idp/register/" + id,
                null, T0, T0.plusSeconds(1));
    }

    @Test
    void roundTripKeepsEveryFieldIncludingNanoseconds() {
        Registration r = new Registration("c1", "a b", List.of("https://x/cb", "https://y/cb"), List.of("authorization_code"),
                "Ünïcode ☃ \"quoted\"", null, "learned:x", T0, T0.plusNanos(7));
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir)) {
            store.put(r).join();
            assertThat(store.get("c1").join()).contains(r);
            assertThat(store.get("nope").join()).isEmpty();
        }
    }

    @Test
    void closeCheckpointsTheLogIntoTheDatabase() {
        // Every reader has its connection open (and has read) when the store closes: the writer's
        // connection must be the last to close, or the WAL stays behind (a read-only connection
        // cannot checkpoint it).
        for (int round = 0; round < 20; round++) {
            try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir)) {
                store.put(registration("c" + round, "s")).join();
                List<CompletableFuture<Optional<Registration>>> reads = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    reads.add(store.get("c" + round));
                }
                reads.forEach(CompletableFuture::join);
            }
            assertThat(dir.resolve("scopegate.db-wal")).as("round " + round).doesNotExist();
        }
    }

    @Test
    void putOverwrites() {
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir)) {
            store.put(registration("c1", "old")).join();
            store.put(registration("c1", "new")).join();
            assertThat(store.get("c1").join()).map(Registration::scope).contains("new");
            assertThat(store.count().join()).isEqualTo(1L);
        }
    }

    @Test
    void deleteSaysWhetherItExisted() {
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir)) {
            store.put(registration("c1", "s")).join();
            assertThat(store.delete("c1").join()).isTrue();
            assertThat(store.delete("c1").join()).isFalse();
            assertThat(store.get("c1").join()).isEmpty();
        }
    }

    @Test
    void countAndPing() {
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir)) {
            store.ping().join();
            assertThat(store.count().join()).isZero();
            store.put(registration("a", "s")).join();
            store.put(registration("b", "s")).join();
            assertThat(store.count().join()).isEqualTo(2L);
        }
    }

    @Test
    void putAllIsOneTransactionAndOverwrites() {
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir)) {
            store.put(registration("a", "old")).join();
            store.putAll(List.of(registration("a", "new"), registration("b", "s"), registration("c", "s"))).join();
            assertThat(store.count().join()).isEqualTo(3L);
            assertThat(store.get("a").join()).map(Registration::scope).contains("new");
        }
    }

    @Test
    void survivesCloseAndReopen() {
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir)) {
            store.put(registration("c1", "s1")).join();
            store.put(registration("c2", "s2")).join();
            store.delete("c2").join();
        }
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir)) {
            assertThat(store.get("c1").join()).contains(registration("c1", "s1"));
            assertThat(store.get("c2").join()).isEmpty();
        }
    }

    @Test
    void fileIsWalWithSchemaVersionAndCreatedDirectory() throws Exception {
        Path nested = dir.resolve("a/b/data");
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(nested)) {
            store.put(registration("c1", "s")).join();
            assertThat(store.file()).isEqualTo(nested.resolve("scopegate.db").toAbsolutePath());
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store.file());
                 Statement st = c.createStatement()) {
                assertThat(scalar(st, "PRAGMA journal_mode")).isEqualTo("wal");
                assertThat(scalar(st, "PRAGMA user_version")).isEqualTo(String.valueOf(SqliteRegistrationStore.SCHEMA_VERSION));
                assertThat(scalar(st, "SELECT updated_at FROM registrations WHERE client_id = 'c1'"))
                        .isEqualTo(String.valueOf(T0.plusSeconds(1).toEpochMilli()));
            }
        }
    }

    @Test
    void concurrentPutsFromManyThreadsAllLand() throws Exception {
        int threads = 4;
        int perThread = 15;
        ExecutorService callers = Executors.newFixedThreadPool(threads);
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir)) {
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<Void>> puts = Collections.synchronizedList(new ArrayList<>());
            List<Future<?>> submitted = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                submitted.add(callers.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        puts.add(store.put(registration("t" + thread + "-" + i, "s")));
                        store.get("t" + thread + "-" + i); // reads interleave with writes
                    }
                    return null;
                }));
            }
            go.countDown();
            for (var f : submitted) {
                f.get(10, TimeUnit.SECONDS);
            }
            CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).join();
            assertThat(store.count().join()).isEqualTo((long) threads * perThread);
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void jdbcNeverRunsOnTheCallersThread() {
        Set<String> jdbcThreads = ConcurrentHashMap.newKeySet();
        Set<String> completionThreads = ConcurrentHashMap.newKeySet();
        String caller = Thread.currentThread().getName();
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir,
                op -> jdbcThreads.add(op + "@" + Thread.currentThread().getName()))) {
            // Dependents attached before completion run where the store completes the future.
            List<CompletableFuture<?>> all = List.of(
                    store.put(registration("c1", "s")),
                    store.get("c1"), store.count(), store.ping(), store.delete("zz"),
                    store.putAll(List.of(registration("c2", "s"))));
            all.forEach(f -> f.thenRun(() -> completionThreads.add(Thread.currentThread().getName())));
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
        }
        assertThat(jdbcThreads).isNotEmpty().allSatisfy(s -> {
            String thread = s.substring(s.indexOf('@') + 1);
            assertThat(thread).startsWith("scopegate-store-").isNotEqualTo(caller);
        });
        assertThat(jdbcThreads).anyMatch(s -> s.startsWith("init@scopegate-store-writer"))
                .anyMatch(s -> s.startsWith("put@scopegate-store-writer"))
                .anyMatch(s -> s.startsWith("delete@scopegate-store-writer"))
                .anyMatch(s -> s.matches("get@scopegate-store-reader-\\d"))
                .anyMatch(s -> s.matches("count@scopegate-store-reader-\\d"));
        // A dependent attached after the future completed runs on the attaching thread, so only
        // the JDBC threads are asserted; completionThreads just shows the futures complete.
        assertThat(completionThreads).isNotEmpty();
    }

    @Test
    void storeThreadsAreDaemonsAndStopOnClose() {
        Set<Thread> before = Set.copyOf(storeThreads());
        SqliteRegistrationStore store = new SqliteRegistrationStore(dir);
        store.ping().join();
        List<Thread> mine = storeThreads().stream().filter(t -> !before.contains(t)).toList();
        assertThat(mine).hasSize(3).allMatch(Thread::isDaemon);
        store.close();
        store.close(); // idempotent
        assertThat(mine).noneMatch(Thread::isAlive);
    }

    @Test
    void callsAfterCloseFailTheirFutures() {
        SqliteRegistrationStore store = new SqliteRegistrationStore(dir);
        store.close();
        assertThat(store.get("c1")).failsWithin(Duration.ofSeconds(5))
                .withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(StoreException.class)
                .withMessageContaining("closed");
    }

    @Test
    void failsFastWhenTheDirectoryIsAFile() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        assertThatThrownBy(() -> new SqliteRegistrationStore(file))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not-a-dir");
    }

    @Test
    void failsFastWhenTheDatabaseIsNotSqlite() throws Exception {
        Files.writeString(dir.resolve(SqliteRegistrationStore.FILE_NAME), "this is not a database, just text ".repeat(200));
        assertThatThrownBy(() -> new SqliteRegistrationStore(dir))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot open registration store")
                .hasMessageContaining(SqliteRegistrationStore.FILE_NAME);
    }

    @Test
    void refusesASchemaFromTheFuture() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(SqliteRegistrationStore.FILE_NAME));
             Statement st = c.createStatement()) {
            st.executeUpdate("PRAGMA user_version = 99");
        }
        assertThatThrownBy(() -> new SqliteRegistrationStore(dir))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("schema version 99");
    }

    @Test
    void unreadableDocumentFailsTheGetWithoutQuotingIt() throws Exception {
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(dir)) {
            store.put(registration("c1", "s")).join();
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store.file());
                 Statement st = c.createStatement()) {
                st.executeUpdate("UPDATE registrations SET doc = '{\"secret-ish\": 1' WHERE client_id = 'c1'");
            }
            assertThat(store.get("c1")).failsWithin(Duration.ofSeconds(5))
                    .withThrowableOfType(ExecutionException.class)
                    .withCauseInstanceOf(StoreException.class)
                    .satisfies(e -> assertThat(e.getCause().getMessage()).doesNotContain("secret-ish"));
            assertThat(store.get("other").join()).isEqualTo(Optional.empty());
        }
    }

    private static String scalar(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static List<Thread> storeThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("scopegate-store-"))
                .toList();
    }
}
