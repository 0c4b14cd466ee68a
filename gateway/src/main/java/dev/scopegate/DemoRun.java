package dev.scopegate;

import dev.scopegate.demo.DemoGuide;
import dev.scopegate.demo.DemoIdp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * {@code scopegate.jar demo}: a {@link DemoIdp} and a gateway in front of it, started from a
 * config file in a fresh temporary directory that also holds the embedded store. Ports 8080
 * (proxy), 9090 (admin) and 8081 (IdP, the example config's upstream) when free, else free
 * ones; {@link #close()} stops both and deletes the directory. Not thread-safe; one per demo.
 */
final class DemoRun implements AutoCloseable {

    static final int PROXY_PORT = 8080;
    static final int ADMIN_PORT = 9090;
    static final int IDP_PORT = 8081;
    static final Duration READY_WAIT = Duration.ofSeconds(10);

    private final DemoIdp idp;
    private final Gateway gateway;
    private final Path dir;
    private final DemoGuide.Ports ports;

    private DemoRun(DemoIdp idp, Gateway gateway, Path dir) {
        this.idp = idp;
        this.gateway = gateway;
        this.dir = dir;
        this.ports = new DemoGuide.Ports(gateway.proxyPort(), gateway.adminPort(), idp.port());
    }

    /**
     * Starts the IdP, then the gateway in front of it.
     *
     * @param ephemeral free ports chosen by the system even when the usual ones are free
     */
    static DemoRun start(boolean ephemeral, Function<String, String> env) throws Exception {
        Objects.requireNonNull(env, "env");
        Path dir = Files.createTempDirectory("scopegate-demo-");
        DemoIdp idp = null;
        try {
            idp = startIdp(ephemeral ? 0 : IDP_PORT);
            Gateway gateway;
            try {
                gateway = startGateway(dir, new DemoGuide.Ports(port(ephemeral ? 0 : PROXY_PORT),
                        port(ephemeral ? 0 : ADMIN_PORT), idp.port()), env);
            } catch (StartException e) {
                // a port was taken between the probe and the bind: once more, on free ports
                gateway = startGateway(dir, new DemoGuide.Ports(port(0), port(0), idp.port()), env);
            }
            awaitReady(gateway.adminPort());
            return new DemoRun(idp, gateway, dir);
        } catch (Exception e) {
            if (idp != null) {
                idp.close();
            }
            delete(dir);
            throw e;
        }
    }

    /**
     * Waits (at most {@link #READY_WAIT}) until {@code /readyz} says 200, i.e. the IdP's metadata is
     * in: the printed commands then never wait for it. Not ready by then is no failure (a request
     * arriving before the metadata is held until it is in).
     */
    private static void awaitReady(int adminPort) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest readyz = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz"))
                .timeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + READY_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (http.send(readyz, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not answering yet
            }
            Thread.sleep(50);
        }
    }

    private static DemoIdp startIdp(int port) throws IOException {
        try {
            return DemoIdp.start(port);
        } catch (BindException e) {
            return DemoIdp.start(0);
        }
    }

    private static Gateway startGateway(Path dir, DemoGuide.Ports ports, Function<String, String> env)
            throws Exception {
        Path file = dir.resolve("scopegate.yaml");
        Files.writeString(file, DemoGuide.config(ports, dir));
        return Gateway.start(file, env);
    }

    /** {@code preferred} when it is free on loopback, else a free port (0: always a free one). */
    static int port(int preferred) throws IOException {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        if (preferred != 0) {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(loopback, preferred));
                return preferred;
            } catch (IOException taken) {
                // fall through to a free one
            }
        }
        try (ServerSocket s = new ServerSocket(0, 1, loopback)) {
            return s.getLocalPort();
        }
    }

    DemoGuide.Ports ports() {
        return ports;
    }

    Path dir() {
        return dir;
    }

    /** What to print: the ports and the commands to paste. */
    String instructions() {
        return DemoGuide.instructions(ports, dir);
    }

    /** Stops the gateway (no drain: a demo) and the IdP, and deletes the directory. */
    @Override
    public void close() {
        try {
            gateway.close();
        } finally {
            idp.close();
            delete(dir);
        }
    }

    private static void delete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            System.err.println("scopegate demo: could not delete " + dir + ": " + e.getMessage());
        }
    }
}
