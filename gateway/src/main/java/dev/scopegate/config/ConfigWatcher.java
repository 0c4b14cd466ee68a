package dev.scopegate.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Watches the directory of the config file and calls {@code onChange} after the directory has
 * been quiet for {@code debounce} following any event. Watching the directory, not the file,
 * catches every way a file gets replaced:
 *
 * <ul>
 *   <li>editors that write in place (modify events on the file);
 *   <li>editors and tools that write a temporary file and rename it over the original (the
 *       original inode is gone; a file watch would go deaf);
 *   <li>Kubernetes ConfigMap volumes, where {@code scopegate.yaml} is a symlink through
 *       {@code ..data}, itself a symlink swapped atomically to a new timestamped directory: the
 *       swap is an event in the file's directory even though the file's own name never changes.
 * </ul>
 *
 * When the file is a symlink to elsewhere, the directory of its target is watched too (and
 * re-resolved after each event). Only events that can change what the file reads count: its own
 * name, its symlink target's name, names starting with {@code ..} (the ConfigMap links) and
 * overflows. Other files in the directory (an access log, the embedded store, an editor's swap
 * file) neither trigger {@code onChange} nor extend the quiet time, so a log written there
 * continuously cannot hold a reload back. {@code onChange} may still see an unchanged file: it is
 * expected to compare content ({@link ConfigReloader#reloadIfChanged()}).
 *
 * <p>Several files may be watched at once (a certificate and its key, in one directory or several):
 * an event that counts for any of them triggers the one {@code onChange}.
 *
 * <p>Runs one daemon thread ({@code scopegate-config-watch} for the config file); {@code onChange}
 * runs on it. {@link #close()} stops it. Thread-safe.
 */
public final class ConfigWatcher implements AutoCloseable {

    /** How long the directory must stay quiet before {@code onChange} runs: one save is many events. */
    public static final Duration DEFAULT_DEBOUNCE = Duration.ofMillis(200);

    private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);

    private final List<Path> files;
    private final Duration debounce;
    private final Runnable onChange;
    private final WatchService watch;
    private final Map<Path, WatchKey> keys = new HashMap<>(); // touched only by the watch thread after start
    /** Entry names whose events count (see the class comment); touched only by the watch thread after start. */
    private final Set<Path> names = new HashSet<>();
    private final Thread thread;
    private volatile boolean closed;

    /**
     * @param file     the config file (may be a symlink); its directory must exist
     * @param debounce quiet time before {@code onChange}
     * @param onChange called on the watch thread; exceptions are logged and watching goes on
     */
    public ConfigWatcher(Path file, Duration debounce, Runnable onChange) throws IOException {
        this(List.of(Objects.requireNonNull(file, "file")), debounce, onChange, "scopegate-config-watch");
    }

    /**
     * @param files      the files (each may be a symlink); their directories must exist
     * @param debounce   quiet time before {@code onChange}
     * @param onChange   called on the watch thread; exceptions are logged and watching goes on
     * @param threadName the name of the watch thread
     */
    public ConfigWatcher(List<Path> files, Duration debounce, Runnable onChange, String threadName) throws IOException {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no file to watch");
        }
        this.files = files.stream().map(f -> f.toAbsolutePath().normalize()).distinct().toList();
        this.debounce = Objects.requireNonNull(debounce, "debounce");
        this.onChange = Objects.requireNonNull(onChange, "onChange");
        this.watch = FileSystems.getDefault().newWatchService();
        try {
            rewatch();
        } catch (IOException | RuntimeException e) {
            watch.close();
            throw e;
        }
        this.thread = new Thread(this::run, Objects.requireNonNull(threadName, "threadName"));
        this.thread.setDaemon(true);
    }

    /** Starts the watch thread. */
    public ConfigWatcher start() {
        thread.start();
        log.info("watching {} for changes", files.size() == 1 ? files.get(0) : files);
        return this;
    }

    private void run() {
        try {
            long quietNanos = Math.max(1_000_000L, debounce.toNanos());
            while (!closed) {
                if (!consume(watch.take())) {
                    continue;
                }
                // Debounce: a save is a burst of events (truncate, write, rename, chmod …); only
                // events that count restart the quiet time.
                long quietUntil = System.nanoTime() + quietNanos;
                for (long left = quietNanos; left > 0; left = quietUntil - System.nanoTime()) {
                    WatchKey key = watch.poll(left, TimeUnit.NANOSECONDS);
                    if (key == null) {
                        break;
                    }
                    if (consume(key)) {
                        quietUntil = System.nanoTime() + quietNanos;
                    }
                }
                if (closed) {
                    return;
                }
                try {
                    rewatch();
                } catch (IOException | RuntimeException e) {
                    log.warn("cannot watch the directory of {}'s target: {}", files, e.toString());
                }
                try {
                    onChange.run();
                } catch (RuntimeException e) {
                    log.error("change handler of {} failed", files, e);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ClosedWatchServiceException e) {
            // closed: done
        }
    }

    /** Takes the key's events; true when one of them counts (see the class comment). */
    private boolean consume(WatchKey key) {
        boolean counts = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            counts |= counts(event);
        }
        if (!key.reset()) {
            keys.values().remove(key); // its directory is gone (an old ConfigMap generation)
            counts = true;
        }
        return counts;
    }

    private boolean counts(WatchEvent<?> event) {
        if (!(event.context() instanceof Path name)) {
            return true; // OVERFLOW: events were lost, any of them may have counted
        }
        return names.contains(name) || name.toString().startsWith("..");
    }

    /** Watches each file's directory and, for a symlink, its target's directory; drops stale target watches. */
    private void rewatch() throws IOException {
        Set<Path> wanted = new LinkedHashSet<>();
        for (Path file : files) {
            wanted.add(file.getParent());
            names.add(file.getFileName());
            try {
                Path real = file.toRealPath();
                if (real.getParent() != null) {
                    wanted.add(real.getParent());
                    names.add(real.getFileName()); // kept: a stale name costs at most one needless compare
                }
            } catch (IOException e) {
                // missing for a moment (mid-swap): the directory watch still sees it come back
            }
        }
        for (Path dir : wanted) {
            if (!keys.containsKey(dir) && Files.isDirectory(dir)) {
                keys.put(dir, dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE,
                        StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE));
            }
        }
        for (Path file : files) {
            if (!keys.containsKey(file.getParent())) {
                throw new IOException("cannot watch " + file.getParent() + ": not a directory");
            }
        }
        for (Iterator<Map.Entry<Path, WatchKey>> it = keys.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Path, WatchKey> e = it.next();
            if (!wanted.contains(e.getKey())) {
                e.getValue().cancel();
                it.remove();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            watch.close();
        } catch (IOException e) {
            log.debug("closing the watch service: {}", e.toString());
        }
        if (thread.isAlive() && thread != Thread.currentThread()) {
            thread.interrupt();
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
