package dev.scopegate.store.redis;

import org.junit.jupiter.api.Assumptions;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} of a test's own, on a free loopback port, with its files in a
 * directory of the test's; stopped, restarted (same port, same files) and killed on request.
 * Also a minimal RESP client to look at what the store wrote. Not thread-safe.
 */
public final class RedisServer implements AutoCloseable {

    private final Path dir;
    private final List<String> extraArgs;
    private final int port;
    private Process process;

    private RedisServer(Path dir, int port, List<String> extraArgs) {
        this.dir = dir;
        this.port = port;
        this.extraArgs = extraArgs;
    }

    /** Skips the calling test unless {@code redis-server} is on the PATH (CI installs it: .ci/redis.sh). */
    public static void assumeInstalled() {
        Assumptions.assumeTrue(onPath("redis-server"), "redis-server is not on the PATH (see .ci/redis.sh)");
    }

    static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }

    /** Starts {@code redis-server --port N --save "" --appendonly no} plus {@code extraArgs} (later ones win). */
    public static RedisServer start(Path dir, String... extraArgs) throws Exception {
        assumeInstalled();
        Files.createDirectories(dir);
        for (int attempt = 0; ; attempt++) {
            RedisServer s = new RedisServer(dir, freePort(), List.of(extraArgs));
            try {
                s.launch();
                return s;
            } catch (IOException e) {
                s.kill();
                if (attempt == 3) {
                    throw e;
                }
            }
        }
    }

    /** Starts one on {@code port} (a port a store was told about before Redis ran there). */
    public static RedisServer startOn(Path dir, int port, String... extraArgs) throws Exception {
        assumeInstalled();
        Files.createDirectories(dir);
        RedisServer s = new RedisServer(dir, port, List.of(extraArgs));
        s.launch();
        return s;
    }

    /**
     * Starts a Sentinel on a free port monitoring {@code master} as {@code mymaster} (quorum 1).
     * Its {@link #uri} is the Redis server's; use {@code redis-sentinel://127.0.0.1:<port>#mymaster}.
     */
    public static RedisServer startSentinel(Path dir, RedisServer master) throws Exception {
        assumeInstalled();
        Files.createDirectories(dir);
        int port = freePort();
        Path conf = dir.resolve("sentinel.conf");
        Files.writeString(conf, "port " + port + "\nbind 127.0.0.1\ndir " + dir + "\n"
                + "sentinel monitor mymaster 127.0.0.1 " + master.port() + " 1\n");
        RedisServer s = new RedisServer(dir, port, List.of());
        s.sentinelConfig = conf;
        s.launch();
        return s;
    }

    private Path sentinelConfig;

    /** A port nothing listens on (for "Redis unreachable"). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public int port() {
        return port;
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public boolean running() {
        return process != null && process.isAlive();
    }

    /** SIGTERM (Redis saves/fsyncs what its persistence settings say) and waits. */
    public void stop() throws InterruptedException {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            process = null;
        }
    }

    /** SIGKILL and waits. */
    public void kill() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    /** Starts it again on the same port with the same directory and arguments. */
    public void restart() throws IOException, InterruptedException {
        stop();
        launch();
    }

    @Override
    public void close() {
        kill();
    }

    private void launch() throws IOException {
        List<String> cmd = sentinelConfig != null
                ? new ArrayList<>(List.of("redis-server", sentinelConfig.toString(), "--sentinel",
                        "--logfile", dir.resolve("sentinel.log").toString()))
                : new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port),
                        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(),
                        "--logfile", dir.resolve("redis.log").toString()));
        cmd.addAll(extraArgs);
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.out").toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("redis-server exited with " + process.exitValue() + " (see " + dir + ")");
            }
            try {
                Object pong = command("PING");
                if ("PONG".equals(pong) || String.valueOf(pong).contains("NOAUTH")) { // NOAUTH: up, with a password
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
        throw new IOException("redis-server did not answer on port " + port);
    }

    /**
     * Sends one command and returns the reply: a String for simple/bulk strings (null for nil),
     * a Long for integers, a List for arrays, and "ERR ..." text for errors.
     */
    public Object command(String... args) throws IOException {
        return commandAs(null, args);
    }

    /** Like {@link #command}, authenticating first with {@code password} when not null. */
    public Object commandAs(String password, String... args) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            if (password != null) {
                write(out, "AUTH", password);
                read(in);
            }
            write(out, args);
            return read(in);
        }
    }

    private static void write(OutputStream out, String... args) throws IOException {
        StringBuilder b = new StringBuilder().append('*').append(args.length).append("\r\n");
        for (String a : args) {
            byte[] bytes = a.getBytes(StandardCharsets.UTF_8);
            b.append('$').append(bytes.length).append("\r\n").append(a).append("\r\n");
        }
        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static Object read(InputStream in) throws IOException {
        int type = in.read();
        String line = line(in);
        switch (type) {
            case '+', '-':
                return line;
            case ':':
                return Long.parseLong(line);
            case '$': {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    return null;
                }
                byte[] data = in.readNBytes(n + 2);
                return new String(data, 0, n, StandardCharsets.UTF_8);
            }
            case '*': {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    return null;
                }
                List<Object> items = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    items.add(read(in));
                }
                return items;
            }
            default:
                throw new IOException("unexpected reply type " + type);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\r') {
                in.read();
                break;
            }
            b.write(c);
        }
        if (c == -1) {
            throw new IOException("connection closed");
        }
        return b.toString(StandardCharsets.UTF_8);
    }
}
