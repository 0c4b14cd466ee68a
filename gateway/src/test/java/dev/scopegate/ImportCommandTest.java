package dev.scopegate;

import dev.scopegate.model.Registration;
import dev.scopegate.store.embedded.SqliteRegistrationStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ImportCommandTest {

    private static final Instant NOW = Instant.parse("2025-11-25T10:00:00Z");

    @TempDir
    Path dir;

    private SqliteRegistrationStore store;
    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();

    @BeforeEach
    void open() {
        store = new SqliteRegistrationStore(dir.resolve("data"));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private int run(String fileContent) throws Exception {
        Path file = Files.writeString(dir.resolve("registrations.json"), fileContent);
        try (PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
             PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8)) {
            return ImportCommand.run(file, store, out, err, Clock.fixed(NOW, ZoneOffset.UTC));
        }
    }

    private String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void importsAJsonArray() throws Exception {
        int code = run("""
                [
                  {"client_id": "a", "scope": "x y", "redirect_uris": ["https://chatgpt.com/cb"],
                   "client_secret": "hush-a", "registration_access_token": "rat-a"},
                  {"client_id": "b", "client_name": "Claude", "grant_types": ["authorization_code"]}
                ]
                """);
        assertThat(code).isZero();
        assertThat(out()).contains("2 imported, 0 skipped");
        assertThat(err()).isEmpty();
        assertThat(store.get("a").join()).contains(new Registration("a", "x y", List.of("https://chatgpt.com/cb"),
                List.of(), null, null, null, NOW, NOW));
        assertThat(store.get("b").join()).map(Registration::clientName).contains("Claude");
    }

    @Test
    void importsJsonLinesSkippingBlankLines() throws Exception {
        int code = run("""
                {"client_id": "a", "scope": "x"}

                {"client_id": "b", "scope": "y", "client_secret": "hush"}
                """);
        assertThat(code).isZero();
        assertThat(out()).contains("2 imported, 0 skipped");
        assertThat(store.count().join()).isEqualTo(2L);
        assertThat(store.get("b").join()).map(Registration::scope).contains("y");
    }

    @Test
    void reportsEachSkippedLineWithoutItsContentAndExitsOne() throws Exception {
        int code = run("""
                {"client_id": "a", "scope": "x"}
                {"client_id": "b", "client_secret": "hush-hush", oops
                [1, 2]
                {"scope": "no id", "client_secret": "hush-hush"}
                {"client_id": "c", "redirect_uris": "https://not-an-array"}
                {"client_id": "d"}
                """);
        assertThat(code).isEqualTo(1);
        assertThat(out()).contains("2 imported, 4 skipped");
        assertThat(err()).contains("line 2: not valid JSON", "line 3: not a JSON object", "line 4: no client_id",
                "line 5: a member has the wrong type").doesNotContain("hush-hush");
        assertThat(store.get("a").join()).isPresent();
        assertThat(store.get("d").join()).isPresent();
        assertThat(store.get("c").join()).isEmpty();
    }

    @Test
    void reportsSkippedArrayEntriesByIndexAndLine() throws Exception {
        int code = run("""
                [
                  {"client_id": "a"},
                  {"client_id": 12},
                  "text",
                  {"client_id": "b"}
                ]
                """);
        assertThat(code).isEqualTo(1);
        assertThat(out()).contains("2 imported, 2 skipped");
        assertThat(err()).contains("index 1 (line 3): no client_id", "index 2 (line 4): not a JSON object");
    }

    @Test
    void aBrokenArrayKeepsWhatCameBeforeAndExitsOne() throws Exception {
        int code = run("[{\"client_id\": \"a\"}, {\"client_id\": \"b\", \"client_secret\": \"hush-hush\" ");
        assertThat(code).isEqualTo(1);
        assertThat(err()).contains("index 1").doesNotContain("hush-hush");
        assertThat(store.get("a").join()).isPresent();
        assertThat(store.get("b").join()).isEmpty();
    }

    @Test
    void secretsAreNotStored() throws Exception {
        run("[{\"client_id\": \"a\", \"client_secret\": \"hush-a\", \"registration_access_token\": \"rat-a\"}]");
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + store.file());
             var st = c.createStatement();
             var rs = st.executeQuery("SELECT group_concat(doc) FROM registrations")) {
            rs.next();
            assertThat(rs.getString(1)).contains("\"a\"").doesNotContain("client_secret", "hush-a",
                    "registration_access_token", "rat-a");
        }
    }

    @Test
    void keepsWhatTheStoreLearnedAndTheLaterDuplicateWins() throws Exception {
        Instant earlier = NOW.minusSeconds(3600);
        store.put(Registration.learnedOnly("a", "learned", earlier)).join();
        int code = run("""
                {"client_id": "a", "scope": "first"}
                {"client_id": "a", "scope": "second"}
                """);
        assertThat(code).isZero();
        assertThat(out()).contains("1 imported");
        Registration a = store.get("a").join().orElseThrow();
        assertThat(a.scope()).isEqualTo("second");
        assertThat(a.learnedScope()).isEqualTo("learned");
        assertThat(a.createdAt()).isEqualTo(earlier);
        assertThat(a.updatedAt()).isEqualTo(NOW);
    }

    @Test
    void emptyFileImportsNothing() throws Exception {
        assertThat(run("\n  \n")).isZero();
        assertThat(out()).contains("0 imported, 0 skipped");
    }

    @Test
    void missingFileExitsOne() {
        int code = ImportCommand.run(dir.resolve("absent.json"), store,
                new PrintStream(outBytes, true, StandardCharsets.UTF_8), new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(1);
        assertThat(err()).contains("cannot read", "absent.json");
    }

    @Test
    void aClosedStoreExitsOne() throws Exception {
        store.close();
        assertThat(run("{\"client_id\": \"a\"}")).isEqualTo(1);
        assertThat(err()).contains("store failed");
    }
}
