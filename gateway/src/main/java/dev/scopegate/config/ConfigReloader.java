package dev.scopegate.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Re-reads the config file and, when it is valid, swaps the new snapshot into the
 * {@link ConfigHolder} in one atomic step: a request in flight keeps the snapshot it started
 * with, the next one sees the new one, none is dropped.
 *
 * <ul>
 *   <li>An invalid file (syntax, unknown key, bad value, or refused by the extra {@link Check})
 *       keeps the running config; every error is logged with its file, line, column and key, and
 *       the outcome listener hears {@link Outcome.Rejected}.
 *   <li>Settings only a restart applies ({@link ConfigChanges#restartOnly}) keep their running
 *       values; the log line names them as waiting for a restart.
 *   <li>One log line summarizes what changed (key names only: values may be secrets).
 *   <li>An empty file is rejected on reload (it is valid at start): under a running gateway it is
 *       far more likely an editor's save caught half-way than a wish to reset everything.
 * </ul>
 *
 * <p>Thread-safe: reloads are serialized, so a file watch and a SIGHUP arriving together apply
 * one after the other. Runs the file read and parse on the calling thread: never call it from an
 * event loop.
 */
public final class ConfigReloader {

    private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

    /** A validation beyond the loader's, against the config that would be installed. */
    @FunctionalInterface
    public interface Check {
        /** @throws ConfigException naming the key at fault */
        void check(ScopegateConfig candidate) throws ConfigException;
    }

    /** What a reload did. */
    public sealed interface Outcome permits Outcome.Applied, Outcome.Unchanged, Outcome.Rejected {

        /**
         * The file was valid and is now running.
         *
         * @param changed         keys whose new values took effect
         * @param restartRequired keys whose file values differ from the running ones until a restart
         */
        record Applied(List<String> changed, List<String> restartRequired) implements Outcome {
            public Applied {
                changed = List.copyOf(changed);
                restartRequired = List.copyOf(restartRequired);
            }
        }

        /** The file's bytes are those of the last reload attempt: nothing was done. */
        record Unchanged() implements Outcome {}

        /** The file was invalid; the running config was kept. {@code errors} name file, line and key. */
        record Rejected(List<String> errors) implements Outcome {
            public Rejected {
                errors = List.copyOf(errors);
            }
        }
    }

    private final Path file;
    private final ConfigLoader loader;
    private final ConfigHolder holder;
    private final Check check;
    private final Consumer<Outcome> listener;
    private byte[] lastDigest;

    /**
     * @param file     the config file (a symlink is followed at each read)
     * @param loader   parses with the process environment
     * @param holder   receives valid snapshots
     * @param check    extra validation (e.g. the admin listener's token rule); {@code c -> {}} for none
     * @param listener hears each outcome (metrics); called on the reloading thread, must be quick
     */
    public ConfigReloader(Path file, ConfigLoader loader, ConfigHolder holder, Check check, Consumer<Outcome> listener) {
        this.file = Objects.requireNonNull(file, "file");
        this.loader = Objects.requireNonNull(loader, "loader");
        this.holder = Objects.requireNonNull(holder, "holder");
        this.check = Objects.requireNonNull(check, "check");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    public Path file() {
        return file;
    }

    /** Reloads unconditionally (SIGHUP: the operator asked, and the environment may differ). */
    public synchronized Outcome reload() {
        return reload(false);
    }

    /**
     * Reloads when the file's bytes differ from those of the last attempt, whatever its outcome
     * (file watch: directory events also come from unrelated files, editors' temporary files and
     * repeated notifications of one save).
     */
    public synchronized Outcome reloadIfChanged() {
        return reload(true);
    }

    /** Records the bytes the process started from, so that the first watch event of an untouched file is a no-op. */
    public synchronized void baseline() {
        try {
            lastDigest = digest(Files.readAllBytes(file));
        } catch (IOException e) {
            lastDigest = null;
        }
    }

    private Outcome reload(boolean onlyIfChanged) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return reject(List.of(file + ": no such file"), null);
        } catch (IOException e) {
            return reject(List.of(file + ": cannot read: " + e), null);
        }
        byte[] digest = digest(bytes);
        if (onlyIfChanged && Arrays.equals(digest, lastDigest)) {
            return new Outcome.Unchanged();
        }
        lastDigest = digest;
        ScopegateConfig next;
        try {
            String text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
            if (text.isBlank()) {
                // Valid at start (all defaults), but under a running gateway an empty file is far
                // more likely a save caught half-way than a wish to reset every setting.
                return reject(List.of(file + ": the file is empty (a save in progress?); write the full config"), digest);
            }
            next = loader.parse(text, file.toString());
        } catch (CharacterCodingException e) {
            return reject(List.of(file + ": not valid UTF-8 text"), digest);
        } catch (ConfigException e) {
            return reject(e.errors(), digest);
        }
        ScopegateConfig running = holder.current();
        ScopegateConfig installed = ConfigChanges.pinRestartOnly(running, next);
        try {
            check.check(installed);
        } catch (ConfigException e) {
            return reject(e.errors(), digest);
        }
        List<String> changed = ConfigChanges.diff(running, installed);
        List<String> restart = new ArrayList<>();
        for (String key : ConfigChanges.diff(running, next)) {
            if (ConfigChanges.restartOnly(key)) {
                restart.add(key);
            }
        }
        if (!changed.isEmpty()) {
            holder.swap(installed);
        }
        Outcome.Applied applied = new Outcome.Applied(changed, restart);
        if (changed.isEmpty()) {
            log.info("config reloaded from {}: no change", file);
        } else {
            log.info("config reloaded from {}: changed {}", file, String.join(", ", changed));
        }
        if (!restart.isEmpty()) {
            log.warn("config {}: {} changed but only a restart applies {}; running with the old values until then",
                    file, String.join(", ", restart), restart.size() == 1 ? "it" : "them");
        }
        notify(applied);
        return applied;
    }

    private Outcome reject(List<String> errors, byte[] digest) {
        if (digest == null) {
            lastDigest = null; // unreadable now: the next readable state is a change
        }
        log.error("config reload from {} rejected, keeping the running config: {}", file, String.join("; ", errors));
        Outcome.Rejected rejected = new Outcome.Rejected(errors);
        notify(rejected);
        return rejected;
    }

    private void notify(Outcome outcome) {
        try {
            listener.accept(outcome);
        } catch (RuntimeException e) {
            log.error("config reload listener failed", e);
        }
    }

    private static byte[] digest(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }
}
