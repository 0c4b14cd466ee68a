package dev.scopegate;

import dev.scopegate.config.ConfigException;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.model.Registration;
import dev.scopegate.store.RegistrationJson;
import dev.scopegate.store.RegistrationStore;
import dev.scopegate.store.StoreException;
import dev.scopegate.store.embedded.SqliteRegistrationStore;
import dev.scopegate.store.redis.RedisRegistrationStore;
import org.sqlite.SQLiteConfig;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * {@code scopegate.jar store copy --from embedded --to redis [--config FILE]} (or
 * {@code --from redis --to embedded}): copies every registration from one store to the other, both
 * as {@code store.path} and {@code store.redis} in the config name them ({@code store.type} does
 * not matter). Run it before switching {@code store.type}; running it again is harmless. An entry
 * the target already holds with a later {@code updated_at} is kept (the gateway may have written
 * it meanwhile); every other one is written. The embedded file may be in use by a running gateway.
 *
 * <p>Reports counts on {@code out}, errors on {@code err}, never a registration's content. Exits
 * 0 when everything was copied, 1 when a store failed ({@link Cli}: 2 on a usage error). Runs on the calling
 * thread and blocks it; not for use inside the gateway.
 */
public final class StoreCopyCommand {

    static final int BATCH = 500;

    /** Where registrations come from: hands them over a page at a time on the calling thread. */
    @FunctionalInterface
    interface Source {
        long forEachPage(Consumer<List<Registration>> page) throws Exception;
    }

    /** What a copy did. */
    record Result(long read, long written, long keptNewer) {
    }

    /** The two stores, as the command line names them ({@code embedded}, {@code redis}). */
    enum Kind { EMBEDDED, REDIS }

    private StoreCopyCommand() {
    }

    /**
     * Loads {@code config} and copies from the store {@code from} to the other one. Checking the
     * arguments ({@code from} and {@code to} given and different) is the command line's job.
     */
    static int run(Kind from, Path config, PrintStream out, PrintStream err) {
        ScopegateConfig c;
        try {
            c = new ConfigLoader(System::getenv).load(config);
        } catch (ConfigException e) {
            err.println("store copy: invalid config " + config + ":");
            e.errors().forEach(x -> err.println("  " + x));
            return 1;
        }
        return copy(c, from == Kind.EMBEDDED, out, err);
    }

    /** Copies between the stores {@code c} names: embedded → Redis when {@code toRedis}, else back. */
    static int copy(ScopegateConfig c, boolean toRedis, PrintStream out, PrintStream err) {
        Path embedded = Path.of(c.store().path());
        RedisRegistrationStore.Settings settings = RedisRegistrationStore.Settings.from(c).withoutOutbox();
        String embeddedName = "embedded (" + embedded.resolve(SqliteRegistrationStore.FILE_NAME) + ")";
        try (RedisRegistrationStore redis = new RedisRegistrationStore(settings, Clock.systemUTC())) {
            String redisName = "redis (" + redis.description() + ")";
            if (!redis.up()) {
                err.println("store copy: cannot reach " + redisName);
                return 1;
            }
            Result r;
            if (toRedis) {
                Path file = embedded.resolve(SqliteRegistrationStore.FILE_NAME);
                if (!Files.isRegularFile(file)) {
                    err.println("store copy: no embedded store at " + file);
                    return 1;
                }
                r = copy(page -> readEmbedded(file, page), redis);
            } else {
                try (SqliteRegistrationStore target = new SqliteRegistrationStore(embedded)) {
                    r = copy(redis::forEachPage, target);
                }
            }
            out.println("store copy: " + r.read() + " read from " + (toRedis ? embeddedName : redisName) + ", "
                    + r.written() + " written to " + (toRedis ? redisName : embeddedName) + ", " + r.keptNewer()
                    + " kept (newer in the target)");
            return 0;
        } catch (CompletionException | StoreException | IllegalStateException | IllegalArgumentException e) {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            err.println("store copy: failed: " + cause.getMessage());
            return 1;
        } catch (Exception e) {
            err.println("store copy: failed: " + e);
            return 1;
        }
    }

    /** Copies every page of {@code source} into {@code target}, keeping target entries that are newer. */
    static Result copy(Source source, RegistrationStore target) throws Exception {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        long[] counts = new long[3];
        source.forEachPage(page -> {
            for (int from = 0; from < page.size(); from += BATCH) {
                List<Registration> batch = page.subList(from, Math.min(page.size(), from + BATCH));
                List<CompletableFuture<Optional<Registration>>> existing = new ArrayList<>(batch.size());
                for (Registration r : batch) {
                    existing.add(target.get(r.clientId()));
                }
                List<Registration> writes = new ArrayList<>(batch.size());
                for (int i = 0; i < batch.size(); i++) {
                    Registration r = batch.get(i);
                    Optional<Registration> there = existing.get(i).join();
                    if (there.isPresent() && there.get().updatedAt().isAfter(r.updatedAt())) {
                        counts[2]++;
                    } else {
                        writes.add(r);
                    }
                }
                if (!writes.isEmpty()) {
                    target.putAll(writes).join();
                }
                counts[0] += batch.size();
                counts[1] += writes.size();
            }
        });
        return new Result(counts[0], counts[1], counts[2]);
    }

    /**
     * Reads the embedded store's file directly, read-only (its schema is documented on
     * {@link SqliteRegistrationStore}); WAL lets a running gateway keep writing meanwhile.
     */
    static long readEmbedded(Path file, Consumer<List<Registration>> page) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(5_000);
        long n = 0;
        try (Connection c = config.createConnection("jdbc:sqlite:" + file.toAbsolutePath());
             Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("PRAGMA user_version")) {
                int version = rs.next() ? rs.getInt(1) : 0;
                if (version != 1) {
                    throw new StoreException("embedded store " + file + " has schema version " + version
                            + ", this command reads version 1");
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT doc FROM registrations ORDER BY client_id")) {
                List<Registration> batch = new ArrayList<>(BATCH);
                while (rs.next()) {
                    try {
                        batch.add(RegistrationJson.fromJson(rs.getString(1)));
                    } catch (IllegalArgumentException e) {
                        throw new StoreException("embedded store " + file + " holds an unreadable registration: "
                                + e.getMessage());
                    }
                    if (batch.size() == BATCH) {
                        page.accept(List.copyOf(batch));
                        n += batch.size();
                        batch.clear();
                    }
                }
                if (!batch.isEmpty()) {
                    page.accept(List.copyOf(batch));
                    n += batch.size();
                }
            }
        }
        return n;
    }
}
