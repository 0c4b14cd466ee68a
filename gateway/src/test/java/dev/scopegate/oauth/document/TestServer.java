package dev.scopegate.oauth.document;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** A real HTTP server on 127.0.0.1, port 0, answering canned responses per raw path (and query). */
final class TestServer implements AutoCloseable {

    record Canned(int status, Map<String, String> headers, byte[] body) {
        static Canned json(String body, Map<String, String> headers) {
            return new Canned(200, headers, body.getBytes(StandardCharsets.UTF_8));
        }
    }

    private final HttpServer server;
    private final Map<String, Canned> responses = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final AtomicInteger total = new AtomicInteger();

    TestServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    /** {@code http://127.0.0.1:PORT}. */
    String origin() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    void answer(String pathAndQuery, Canned response) {
        responses.put(pathAndQuery, response);
    }

    int requests(String pathAndQuery) {
        AtomicInteger n = hits.get(pathAndQuery);
        return n == null ? 0 : n.get();
    }

    int totalRequests() {
        return total.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String raw = exchange.getRequestURI().getRawPath();
            String query = exchange.getRequestURI().getRawQuery();
            String key = query == null ? raw : raw + "?" + query;
            total.incrementAndGet();
            hits.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            Canned canned = responses.getOrDefault(key, new Canned(404, Map.of(), "not found".getBytes(StandardCharsets.UTF_8)));
            canned.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
            exchange.sendResponseHeaders(canned.status(), canned.body().length == 0 ? -1 : canned.body().length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(canned.body());
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
