package dev.scopegate.proxy;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A client connection that sends exact bytes and parses what comes back without normalizing it:
 * status line, header lines in order and with their case, body by its framing. Public for the
 * real-socket tests of other packages (ops, it). Not thread-safe.
 */
public final class RawConnection implements AutoCloseable {

    /** A header or trailer line as received. */
    public record Header(String name, String value) {}

    /** A response head. */
    public record Head(String statusLine, int status, List<Header> headers) {

        List<String> all(String name) {
            return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(Header::value).toList();
        }

        public String first(String name) {
            List<String> all = all(name);
            return all.isEmpty() ? null : all.get(0);
        }

        boolean has(String name) {
            return !all(name).isEmpty();
        }

        boolean chunked() {
            String te = first("transfer-encoding");
            return te != null && te.toLowerCase().contains("chunked");
        }

        long contentLength() {
            String cl = first("content-length");
            return cl == null ? -1 : Long.parseLong(cl.trim());
        }
    }

    /** A complete response. */
    public record Response(Head head, byte[] body, List<Header> trailers) {

        public int status() {
            return head.status();
        }

        public String header(String name) {
            return head.first(name);
        }

        public String bodyText() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    /** Receives body bytes as they arrive (for bodies too large to keep). */
    interface BodySink {
        void accept(byte[] buf, int off, int len);
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 65536);
        this.out = socket.getOutputStream();
    }

    /** A TLS connection trusting what {@code tls} trusts (the handshake is done when this returns). */
    static RawConnection openTls(int port, javax.net.ssl.SSLContext tls) throws IOException {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) tls.getSocketFactory()
                .createSocket(plain, "localhost", port, true);
        s.setSoTimeout(5000);
        s.setTcpNoDelay(true);
        s.startHandshake();
        return new RawConnection(s);
    }

    public static RawConnection open(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        s.setSoTimeout(5000);
        s.setTcpNoDelay(true);
        return new RawConnection(s);
    }

    public RawConnection timeout(int millis) throws SocketException {
        socket.setSoTimeout(millis);
        return this;
    }

    public RawConnection send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    RawConnection send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    OutputStream output() {
        return out;
    }

    /** Half-closes: the gateway sees end of input. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Reads one complete response (a 1xx is a response of its own). */
    public Response read() throws IOException {
        return read(false);
    }

    /** @param bodyless the response answers HEAD (it has no body whatever its headers say) */
    Response read(boolean bodyless) throws IOException {
        Head head = readHead();
        List<Header> trailers = new ArrayList<>();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        readBody(head, bodyless, body::write, trailers);
        return new Response(head, body.toByteArray(), trailers);
    }

    Head readHead() throws IOException {
        String statusLine = readLine();
        if (statusLine == null) {
            throw new EOFException("connection closed before a response");
        }
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("not a status line: " + statusLine);
        }
        int status = Integer.parseInt(parts[1]);
        return new Head(statusLine, status, readFields());
    }

    /**
     * Reads the body that follows {@code head} into {@code sink}; trailers go to {@code trailers}.
     *
     * @return the number of body bytes
     * @throws EOFException when the connection ends before the framing says the body is complete
     */
    long readBody(Head head, boolean bodyless, BodySink sink, List<Header> trailers) throws IOException {
        int status = head.status();
        if (bodyless || (status >= 100 && status < 200) || status == 204 || status == 304) {
            return 0;
        }
        byte[] buf = new byte[65536];
        if (head.chunked()) {
            long total = 0;
            while (true) {
                String line = readLine();
                if (line == null) {
                    throw new EOFException("connection closed inside a chunked body after " + total + " bytes");
                }
                int semi = line.indexOf(';');
                long size = Long.parseLong((semi < 0 ? line : line.substring(0, semi)).trim(), 16);
                if (size == 0) {
                    trailers.addAll(readFields());
                    return total;
                }
                readExactly(size, buf, sink);
                total += size;
                String crlf = readLine();
                if (crlf == null || !crlf.isEmpty()) {
                    throw new IOException("chunk not followed by CRLF");
                }
            }
        }
        long length = head.contentLength();
        if (length >= 0) {
            readExactly(length, buf, sink);
            return length;
        }
        long total = 0;
        int n;
        while ((n = in.read(buf)) > 0) {
            sink.accept(buf, 0, n);
            total += n;
        }
        return total;
    }

    /** Reads up to {@code len} raw bytes (body bytes when called right after {@link #readHead()}). */
    int readSomeBody(byte[] buf, int off, int len) throws IOException {
        return in.read(buf, off, len);
    }

    /**
     * Reads the body that follows {@code head}, checking each byte against {@link BodyPattern}.
     *
     * @return the number of body bytes
     * @throws AssertionError at the first byte that differs
     */
    long readPatternBody(Head head) throws IOException {
        long[] position = {0};
        readBody(head, false, (buf, off, len) -> {
            if (!BodyPattern.matches(position[0], buf, off, len)) {
                throw new AssertionError("body differs from the pattern within bytes " + position[0] + ".." + (position[0] + len));
            }
            position[0] += len;
        }, new ArrayList<>());
        return position[0];
    }

    private void readExactly(long length, byte[] buf, BodySink sink) throws IOException {
        long left = length;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                throw new EOFException("connection closed with " + left + " of " + length + " body bytes missing");
            }
            sink.accept(buf, 0, n);
            left -= n;
        }
    }

    private List<Header> readFields() throws IOException {
        List<Header> fields = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line == null) {
                throw new EOFException("connection closed inside a header section");
            }
            if (line.isEmpty()) {
                return fields;
            }
            int colon = line.indexOf(':');
            fields.add(new Header(line.substring(0, colon), line.substring(colon + 1).trim()));
        }
    }

    /** A CRLF-terminated line without its CRLF, or null at end of input. */
    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (line.size() == 0) {
                    return null;
                }
                throw new EOFException("connection closed inside a line");
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int len = bytes.length;
                if (len == 0 || bytes[len - 1] != '\r') {
                    throw new IOException("line not ended by CRLF");
                }
                return new String(bytes, 0, len - 1, StandardCharsets.ISO_8859_1);
            }
            line.write(b);
        }
    }

    /**
     * True when the gateway closed (or reset) the connection: reading yields end of input. False
     * when bytes arrive or nothing happens within the socket timeout.
     */
    boolean closedByPeer() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset
        }
    }

    /** Everything until the gateway closes; a reset ends the input too. */
    byte[] readToEnd() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                all.write(buf, 0, n);
            }
        } catch (SocketException e) {
            // reset: what arrived before it is the answer
        }
        return all.toByteArray();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
