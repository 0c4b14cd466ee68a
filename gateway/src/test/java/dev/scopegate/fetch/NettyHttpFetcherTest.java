package dev.scopegate.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.scopegate.oauth.HttpFetcher;
import dev.scopegate.oauth.HttpFetcher.BodyTooLargeException;
import dev.scopegate.oauth.HttpFetcher.Response;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class NettyHttpFetcherTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private static EventLoopGroup group;
    private static ExecutorService serverThreads;
    private static HttpServer server;
    private static NettyHttpFetcher fetcher;
    private static final AtomicReference<Headers> lastHeaders = new AtomicReference<>();
    private static final AtomicReference<URI> lastRequestUri = new AtomicReference<>();
    private static final AtomicInteger requests = new AtomicInteger();

    @BeforeAll
    static void start() throws IOException {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        serverThreads = Executors.newCachedThreadPool();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(serverThreads);
        server.createContext("/", NettyHttpFetcherTest::handle);
        server.start();
        fetcher = new NettyHttpFetcher(group);
    }

    @AfterAll
    static void stop() {
        fetcher.close();
        server.stop(0);
        serverThreads.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static void handle(HttpExchange ex) throws IOException {
        requests.incrementAndGet();
        lastHeaders.set(ex.getRequestHeaders());
        lastRequestUri.set(ex.getRequestURI());
        try (ex) {
            switch (ex.getRequestURI().getPath()) {
                case "/ok" -> {
                    ex.getResponseHeaders().add("Content-Type", "application/json");
                    ex.getResponseHeaders().add("X-Multi", "one");
                    ex.getResponseHeaders().add("X-Multi", "two");
                    send(ex, 200, "{\"issuer\":\"https://idp\"}".getBytes(StandardCharsets.UTF_8), false);
                }
                case "/missing" -> send(ex, 404, "nope".getBytes(StandardCharsets.UTF_8), false);
                case "/big" -> send(ex, 200, filled(10_000), false);
                case "/big-chunked" -> send(ex, 200, filled(10_000), true);
                default -> send(ex, 500, new byte[0], false);
            }
        }
    }

    private static void send(HttpExchange ex, int status, byte[] body, boolean chunked) throws IOException {
        ex.sendResponseHeaders(status, chunked ? 0 : body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private static byte[] filled(int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) 'x');
        return b;
    }

    private static URI local(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + pathAndQuery);
    }

    private static Response ok(CompletableFuture<Response> f) throws Exception {
        return f.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    private static Throwable failureOf(CompletableFuture<?> f) throws InterruptedException {
        try {
            f.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError("the fetch neither completed nor failed", e);
        }
        throw new AssertionError("expected the fetch to fail");
    }

    @Test
    void returnsStatusLowerCaseHeadersAndBody() throws Exception {
        Response r = ok(fetcher.get(local("/ok"), Map.of(), 1024, TIMEOUT));

        assertThat(r.status()).isEqualTo(200);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("{\"issuer\":\"https://idp\"}");
        assertThat(r.header("content-type")).isEqualTo("application/json");
        assertThat(r.headers().get("x-multi")).containsExactly("one", "two");
    }

    @Test
    void sendsDefaultHeadersAndCallerHeadersWithHostOverride() throws Exception {
        Map<String, String> headers = Map.of(
                "Host", "public.example:8443",
                "X-Forwarded-Host", "public.example:8443",
                "X-Forwarded-Proto", "https");

        ok(fetcher.get(local("/ok?a=%2F&b=c"), headers, 1024, TIMEOUT));

        Headers seen = lastHeaders.get();
        assertThat(seen.get("Host")).containsExactly("public.example:8443");
        assertThat(seen.getFirst("X-Forwarded-Host")).isEqualTo("public.example:8443");
        assertThat(seen.getFirst("X-Forwarded-Proto")).isEqualTo("https");
        assertThat(seen.getFirst("Accept")).isEqualTo("application/json");
        assertThat(seen.getFirst("Connection")).isEqualToIgnoringCase("close");
        assertThat(lastRequestUri.get().getRawPath()).isEqualTo("/ok");
        assertThat(lastRequestUri.get().getRawQuery()).isEqualTo("a=%2F&b=c");
    }

    @Test
    void defaultHostIsTheUriAuthority() throws Exception {
        ok(fetcher.get(local("/ok"), Map.of(), 1024, TIMEOUT));

        assertThat(lastHeaders.get().getFirst("Host")).isEqualTo("127.0.0.1:" + server.getAddress().getPort());
    }

    @Test
    void resolvesHostNamesOffTheEventLoop() throws Exception {
        URI uri = URI.create("http://localhost:" + server.getAddress().getPort() + "/ok");

        assertThat(ok(fetcher.get(uri, Map.of(), 1024, TIMEOUT)).status()).isEqualTo(200);
    }

    @Test
    void notFoundIsANormalResponse() throws Exception {
        Response r = ok(fetcher.get(local("/missing"), Map.of(), 1024, TIMEOUT));

        assertThat(r.status()).isEqualTo(404);
        assertThat(r.body()).asString(StandardCharsets.UTF_8).isEqualTo("nope");
    }

    @Test
    void bodyAtTheCapIsAccepted() throws Exception {
        assertThat(ok(fetcher.get(local("/big"), Map.of(), 10_000, TIMEOUT)).body()).hasSize(10_000);
    }

    @Test
    void bodyOverTheCapFails() throws Exception {
        assertThat(failureOf(fetcher.get(local("/big"), Map.of(), 9_999, TIMEOUT)))
                .isInstanceOf(BodyTooLargeException.class).hasMessageContaining("9999");
    }

    @Test
    void chunkedBodyOverTheCapFails() throws Exception {
        assertThat(failureOf(fetcher.get(local("/big-chunked"), Map.of(), 4_096, TIMEOUT)))
                .isInstanceOf(BodyTooLargeException.class);
    }

    @Test
    void serverThatNeverAnswersTimesOut() throws Exception {
        // The kernel accepts connections into the backlog; nobody ever reads or answers.
        try (ServerSocket silent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            URI uri = URI.create("http://127.0.0.1:" + silent.getLocalPort() + "/");

            assertThat(failureOf(fetcher.get(uri, Map.of(), 1024, Duration.ofMillis(200))))
                    .isInstanceOf(TimeoutException.class);
        }
    }

    @Test
    void refusedConnectionFails() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }

        assertThat(failureOf(fetcher.get(URI.create("http://127.0.0.1:" + port + "/"), Map.of(), 1024, TIMEOUT)))
                .isInstanceOf(ConnectException.class);
    }

    @Test
    void addressFilterRejectsBeforeConnecting() throws Exception {
        try (NettyHttpFetcher guarded = NettyHttpFetcher.builder(group).addressFilter(a -> !a.isLoopbackAddress()).build()) {
            int before = requests.get();

            assertThat(failureOf(guarded.get(local("/ok"), Map.of(), 1024, TIMEOUT)))
                    .isInstanceOf(NettyHttpFetcher.AddressRejectedException.class);
            URI byName = URI.create("http://localhost:" + server.getAddress().getPort() + "/ok");
            assertThat(failureOf(guarded.get(byName, Map.of(), 1024, TIMEOUT)))
                    .isInstanceOf(NettyHttpFetcher.AddressRejectedException.class);
            assertThat(requests.get()).isEqualTo(before);
        }
    }

    @Test
    void headerValuesCannotInjectHeaders() throws Exception {
        int before = requests.get();

        assertThat(failureOf(fetcher.get(local("/ok"), Map.of("X-A", "a\r\nX-Injected: 1"), 1024, TIMEOUT)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(requests.get()).isEqualTo(before);
    }

    @Test
    void rejectsUnsupportedSchemes() throws Exception {
        assertThat(failureOf(fetcher.get(URI.create("ftp://127.0.0.1/x"), Map.of(), 1024, TIMEOUT)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void closeFailsFetchesInFlight() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            NettyHttpFetcher own = new NettyHttpFetcher(group);
            CompletableFuture<Response> pending =
                    own.get(URI.create("http://127.0.0.1:" + silent.getLocalPort() + "/"), Map.of(), 1024, TIMEOUT);

            own.close();

            assertThat(failureOf(pending)).isInstanceOf(IOException.class).hasMessageContaining("closed");
            assertThat(failureOf(own.get(local("/ok"), Map.of(), 1024, TIMEOUT))).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void httpsVerifiesTheHostName() throws Exception {
        // A self-signed test certificate for SAN dns:localhost only (keytool, EC P-256, 100 years).
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = NettyHttpFetcherTest.class.getResourceAsStream("localhost.p12")) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        SSLContext serverTls = SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        https.setHttpsConfigurator(new HttpsConfigurator(serverTls));
        https.setExecutor(serverThreads);
        https.createContext("/", NettyHttpFetcherTest::handle);
        https.start();
        X509Certificate cert = (X509Certificate) ks.getCertificate("server");
        int port = https.getAddress().getPort();
        try (NettyHttpFetcher trusting = NettyHttpFetcher.builder(group)
                .sslContext(SslContextBuilder.forClient().trustManager(cert).build()).build()) {

            Response r = ok(trusting.get(URI.create("https://localhost:" + port + "/ok"), Map.of(), 1024, TIMEOUT));
            assertThat(r.status()).isEqualTo(200);
            // Same server and trusted certificate, but 127.0.0.1 is not a name the certificate holds.
            assertThat(failureOf(trusting.get(URI.create("https://127.0.0.1:" + port + "/ok"), Map.of(), 1024, TIMEOUT)))
                    .isInstanceOf(SSLHandshakeException.class);
            // The default context (JDK trust store) does not trust a self-signed certificate.
            assertThat(failureOf(fetcher.get(URI.create("https://localhost:" + port + "/ok"), Map.of(), 1024, TIMEOUT)))
                    .isInstanceOf(SSLHandshakeException.class);
        } finally {
            https.stop(0);
        }
    }

    @Test
    void anOriginWithAContextOfItsOwnUsesItAtEachConnectionAndOnlyThere() throws Exception {
        dev.scopegate.tls.TestPki pki = dev.scopegate.tls.TestPki.create("NettyHttpFetcherTest CA");
        HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        https.setHttpsConfigurator(new HttpsConfigurator(pki.server("idp").context(null)));
        https.setExecutor(serverThreads);
        https.createContext("/", NettyHttpFetcherTest::handle);
        https.start();
        int port = https.getAddress().getPort();
        io.netty.handler.ssl.SslContext trustingCa = SslContextBuilder.forClient().trustManager(pki.certificate()).build();
        java.util.concurrent.atomic.AtomicReference<io.netty.handler.ssl.SslContext> current =
                new java.util.concurrent.atomic.AtomicReference<>(trustingCa);
        try (NettyHttpFetcher idp = NettyHttpFetcher.builder(group)
                .sslContext(URI.create("https://127.0.0.1:" + port + "/base"), current::get).build()) {

            assertThat(ok(idp.get(URI.create("https://127.0.0.1:" + port + "/ok"), Map.of(), 1024, TIMEOUT)).status())
                    .isEqualTo(200);
            // localhost:port is another origin (same server): the default context, which knows no private CA
            assertThat(failureOf(idp.get(URI.create("https://localhost:" + port + "/ok"), Map.of(), 1024, TIMEOUT)))
                    .isInstanceOf(SSLHandshakeException.class);
            // a context swapped in applies to the next connection
            current.set(SslContextBuilder.forClient().trustManager(dev.scopegate.tls.TestPki.create("other CA").certificate())
                    .build());
            assertThat(failureOf(idp.get(URI.create("https://127.0.0.1:" + port + "/ok"), Map.of(), 1024, TIMEOUT)))
                    .isInstanceOf(SSLHandshakeException.class);
        } finally {
            https.stop(0);
        }
        assertThatThrownBy(() -> NettyHttpFetcher.builder(group).sslContext(URI.create("http://127.0.0.1:1"), () -> trustingCa))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an https origin");
    }

    @Test
    void targetParsesAuthorityForms() {
        assertThat(NettyHttpFetcher.Target.of(URI.create("http://idp:8081")))
                .isEqualTo(new NettyHttpFetcher.Target(false, "idp", 8081, "idp:8081", "/"));
        assertThat(NettyHttpFetcher.Target.of(URI.create("https://idp/a%20b?x=1")))
                .isEqualTo(new NettyHttpFetcher.Target(true, "idp", 443, "idp", "/a%20b?x=1"));
        assertThat(NettyHttpFetcher.Target.of(URI.create("http://[::1]:9/p")))
                .isEqualTo(new NettyHttpFetcher.Target(false, "::1", 9, "[::1]:9", "/p"));
        assertThat(NettyHttpFetcher.Target.of(URI.create("http://my_idp:8081/.well-known/x")))
                .isEqualTo(new NettyHttpFetcher.Target(false, "my_idp", 8081, "my_idp:8081", "/.well-known/x"));
        assertThat(NettyHttpFetcher.Target.of(URI.create("http://idp:80")).hostHeader()).isEqualTo("idp");
    }
}
