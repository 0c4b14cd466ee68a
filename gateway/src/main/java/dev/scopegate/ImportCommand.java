package dev.scopegate;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.scopegate.model.Registration;
import dev.scopegate.oauth.RegistrationDocuments;
import dev.scopegate.store.RegistrationStore;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionException;

/**
 * {@code scopegate.jar import --config FILE REGISTRATIONS}: backfills the store with clients
 * registered before scopegate was deployed. The file holds RFC 7591 client metadata objects,
 * each with {@code client_id}, either as one JSON array or as JSON lines (one object per line,
 * blank lines ignored). Secrets in them are dropped like in a captured registration. A client
 * already in the store keeps what scopegate learned of it and when it was first seen. When one
 * {@code client_id} appears twice, the later entry wins.
 *
 * <p>Reports on {@code out} how many were imported and skipped, and on {@code err} each skipped
 * entry by line (and array index) with the reason; never the entry's content, which may hold a
 * secret. Runs on the calling thread and blocks it; not for use inside the gateway.
 */
public final class ImportCommand {

    private static final int BATCH = 500;

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    /** Reads one array element at a time: what follows an element is the next one, not trailing garbage. */
    private static final ObjectReader ELEMENT_READER = MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private ImportCommand() {
    }

    /** @return 0 when every entry was imported, 1 when any was skipped or the file or store failed */
    public static int run(Path registrationsFile, RegistrationStore store, PrintStream out, PrintStream err) {
        return run(registrationsFile, store, out, err, Clock.systemUTC());
    }

    static int run(Path registrationsFile, RegistrationStore store, PrintStream out, PrintStream err, Clock clock) {
        Objects.requireNonNull(registrationsFile, "registrationsFile");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(err, "err");
        String text;
        try {
            text = Files.readString(registrationsFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            err.println("import: cannot read " + registrationsFile + ": " + e);
            return 1;
        }
        Instant now = clock.instant();
        Parsed parsed = startsWithArray(text) ? parseArray(text, now) : parseLines(text, now);
        parsed.skipped.forEach(s -> err.println("import: skipped " + s));

        int imported;
        try {
            imported = store(parsed.entries, store);
        } catch (CompletionException | IllegalStateException e) {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            err.println("import: store failed: " + cause.getMessage());
            return 1;
        }
        out.println("import: " + imported + " imported, " + parsed.skipped.size() + " skipped from " + registrationsFile);
        return parsed.skipped.isEmpty() ? 0 : 1;
    }

    /** Merges with what the store has and writes in batches; returns how many distinct clients were written. */
    private static int store(List<Registration> entries, RegistrationStore store) {
        Map<String, Registration> latest = new LinkedHashMap<>();
        for (Registration r : entries) {
            latest.remove(r.clientId());
            latest.put(r.clientId(), r);
        }
        List<Registration> batch = new ArrayList<>(BATCH);
        for (Registration r : latest.values()) {
            Optional<Registration> existing = store.get(r.clientId()).join();
            batch.add(r.mergedInto(existing.orElse(null)));
            if (batch.size() == BATCH) {
                store.putAll(List.copyOf(batch)).join();
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            store.putAll(List.copyOf(batch)).join();
        }
        return latest.size();
    }

    private static boolean startsWithArray(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\uFEFF' || Character.isWhitespace(c)) {
                continue;
            }
            return c == '[';
        }
        return false;
    }

    private static Parsed parseArray(String text, Instant now) {
        Parsed parsed = new Parsed();
        int index = 0;
        try (JsonParser p = MAPPER.createParser(stripBom(text))) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                parsed.skipped.add("the whole file: not a JSON array");
                return parsed;
            }
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t == null) {
                    parsed.skipped.add("the rest of the file from index " + index + ": the array is not closed");
                    return parsed;
                }
                int line = p.currentTokenLocation().getLineNr();
                JsonNode node = ELEMENT_READER.readTree(p);
                accept(node, now, "index " + index + " (line " + line + ")", parsed);
                index++;
            }
            if (p.nextToken() != null) {
                parsed.skipped.add("content after the array at line " + p.currentTokenLocation().getLineNr());
            }
        } catch (JsonProcessingException e) {
            parsed.skipped.add("the rest of the file from index " + index + ": not valid JSON" + at(e.getLocation()));
        } catch (IOException e) {
            parsed.skipped.add("the rest of the file from index " + index + ": " + e.getClass().getSimpleName());
        }
        return parsed;
    }

    private static Parsed parseLines(String text, Instant now) {
        Parsed parsed = new Parsed();
        String[] lines = stripBom(text).split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) {
                continue;
            }
            String where = "line " + (i + 1);
            JsonNode node;
            try {
                node = MAPPER.readTree(line);
            } catch (JsonProcessingException e) {
                // Jackson's message would quote the input, which may hold a secret.
                parsed.skipped.add(where + ": not valid JSON" + column(e.getLocation()));
                continue;
            }
            accept(node, now, where, parsed);
        }
        return parsed;
    }

    private static void accept(JsonNode node, Instant now, String where, Parsed parsed) {
        if (node == null || !node.isObject()) {
            parsed.skipped.add(where + ": not a JSON object");
            return;
        }
        JsonNode clientId = node.get("client_id");
        if (clientId == null || !clientId.isTextual() || clientId.textValue().isBlank()) {
            parsed.skipped.add(where + ": no client_id string");
            return;
        }
        Optional<Registration> r = RegistrationDocuments.fromClientMetadata(node, now);
        if (r.isEmpty()) {
            parsed.skipped.add(where + ": a member has the wrong type (scope, redirect_uris, grant_types, "
                    + "client_name or registration_client_uri)");
            return;
        }
        parsed.entries.add(r.get());
    }

    private static String stripBom(String text) {
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    private static String at(JsonLocation loc) {
        return loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    }

    private static String column(JsonLocation loc) {
        return loc == null ? "" : " at column " + loc.getColumnNr();
    }

    private static final class Parsed {
        final List<Registration> entries = new ArrayList<>();
        final List<String> skipped = new ArrayList<>();
    }
}
