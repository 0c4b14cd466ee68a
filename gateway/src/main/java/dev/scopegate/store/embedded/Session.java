package dev.scopegate.store.embedded;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/** One connection and its prepared statements; confined to the store thread that opened it. */
final class Session {

    private static final Logger log = LoggerFactory.getLogger(Session.class);
    private static final int BUSY_TIMEOUT_MILLIS = 5_000;

    final Connection connection;
    final Exception openFailure;
    private final Map<String, PreparedStatement> statements = new HashMap<>();

    private Session(Connection connection, Exception openFailure) {
        this.connection = connection;
        this.openFailure = openFailure;
    }

    /**
     * WAL with {@code synchronous=FULL}: every commit fsyncs the log, so a commit that returned
     * survives {@code kill -9} and power loss ({@code NORMAL} would not, for the last commits).
     */
    static Session open(Path file, boolean readOnly) {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(BUSY_TIMEOUT_MILLIS);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        if (!readOnly) {
            config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        }
        try {
            Connection c = config.createConnection("jdbc:sqlite:" + file);
            if (readOnly) {
                try (Statement st = c.createStatement()) {
                    st.execute("PRAGMA query_only = 1");
                }
            }
            return new Session(c, null);
        } catch (SQLException | RuntimeException e) {
            return new Session(null, e);
        } catch (LinkageError e) {
            // The native library failed to load: keep the thread alive so futures fail, not hang.
            return new Session(null, new SQLException("SQLite native library unavailable: " + e, e));
        }
    }

    PreparedStatement prepare(String sql) throws SQLException {
        PreparedStatement ps = statements.get(sql);
        if (ps == null) {
            ps = connection.prepareStatement(sql);
            statements.put(sql, ps);
        }
        return ps;
    }

    /** Runs a statement without a result (transaction control), prepared once. */
    void exec(String sql) throws SQLException {
        prepare(sql).executeUpdate();
    }

    void close() {
        if (connection == null) {
            return;
        }
        try {
            for (PreparedStatement ps : statements.values()) {
                ps.close();
            }
            connection.close();
        } catch (SQLException e) {
            log.warn("closing registration store connection failed: {}", e.toString());
        }
    }
}
