package dev.scopegate.oauth.metadata;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny IdP on 127.0.0.1: each path answers what the test set (404 otherwise), counts its
 * requests and remembers the last request headers. A path can be held until the test releases it.
 */
final class FakeIdp implements AutoCloseable {

    record Reply(int status, String contentType, byte[] body) {
        static Reply json(String body) {
            return new Reply(200, "application/json", body.getBytes(StandardCharsets.UTF_8));
        }
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Map<String, Reply> replies = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final Map<String, Headers> headers = new ConcurrentHashMap<>();
    private final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
    private volatile Reply everything;

    FakeIdp() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 32);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Answers {@code path} with {@code reply} (null: 404 again). */
    FakeIdp reply(String path, Reply reply) {
        if (reply == null) {
            replies.remove(path);
        } else {
            replies.put(path, reply);
        }
        return this;
    }

    /** Answers every path with {@code reply} (null: back to per-path replies). */
    FakeIdp replyEverywhere(Reply reply) {
        everything = reply;
        return this;
    }

    /** Holds requests to {@code path} until the returned latch is counted down. */
    CountDownLatch hold(String path) {
        CountDownLatch gate = new CountDownLatch(1);
        gates.put(path, gate);
        return gate;
    }

    int count(String path) {
        AtomicInteger c = counts.get(path);
        return c == null ? 0 : c.get();
    }

    Headers lastHeaders(String path) {
        return headers.get(path);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        headers.put(path, ex.getRequestHeaders());
        CountDownLatch gate = gates.get(path);
        try (ex) {
            if (gate != null && !gate.await(10, TimeUnit.SECONDS)) {
                throw new IOException("gate never opened");
            }
            Reply reply = everything != null ? everything : replies.get(path);
            if (reply == null) {
                reply = new Reply(404, "text/plain", "not found".getBytes(StandardCharsets.UTF_8));
            }
            ex.getResponseHeaders().set("Content-Type", reply.contentType());
            ex.sendResponseHeaders(reply.status(), reply.body().length == 0 ? -1 : reply.body().length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(reply.body());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        gates.values().forEach(CountDownLatch::countDown);
        server.stop(0);
        threads.shutdownNow();
    }
}
