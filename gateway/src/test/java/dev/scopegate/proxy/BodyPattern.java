package dev.scopegate.proxy;

import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * A deterministic, position-dependent byte stream of any length, generated and checked on the
 * fly so multi-gigabyte bodies never need to exist in memory. Byte {@code i} of a body is
 * {@code TABLE[i % PERIOD]}; the period is prime so it never lines up with buffer sizes.
 * Immutable; thread-safe.
 */
final class BodyPattern {

    static final int PERIOD = 65_521;
    /** Two periods back to back, so any run of up to {@code PERIOD} bytes is one contiguous copy. */
    private static final byte[] TABLE = new byte[PERIOD * 2];

    static {
        byte[] one = new byte[PERIOD];
        new Random(20240601L).nextBytes(one);
        System.arraycopy(one, 0, TABLE, 0, PERIOD);
        System.arraycopy(one, 0, TABLE, PERIOD, PERIOD);
    }

    private BodyPattern() {
    }

    /** Fills {@code dst[off, off+len)} with the body bytes starting at body position {@code position}. */
    static void fill(long position, byte[] dst, int off, int len) {
        while (len > 0) {
            int start = (int) (position % PERIOD);
            int n = Math.min(len, TABLE.length - start);
            System.arraycopy(TABLE, start, dst, off, n);
            position += n;
            off += n;
            len -= n;
        }
    }

    /** Appends {@code len} body bytes starting at body position {@code position}. */
    static void writeTo(ByteBuf buf, long position, int len) {
        while (len > 0) {
            int start = (int) (position % PERIOD);
            int n = Math.min(len, TABLE.length - start);
            buf.writeBytes(TABLE, start, n);
            position += n;
            len -= n;
        }
    }

    /**
     * The body bytes starting at {@code position}, at most {@code maxLen} of them (and at most one
     * period), as a read-only view of the shared table: no allocation, no copy.
     */
    static ByteBuf slice(long position, int maxLen) {
        int start = (int) (position % PERIOD);
        int n = Math.min(maxLen, PERIOD);
        return io.netty.buffer.Unpooled.wrappedBuffer(TABLE, start, n).asReadOnly();
    }

    /** True when {@code src[off, off+len)} equals the body bytes starting at {@code position}. */
    static boolean matches(long position, byte[] src, int off, int len) {
        while (len > 0) {
            int start = (int) (position % PERIOD);
            int n = Math.min(len, TABLE.length - start);
            if (!Arrays.equals(TABLE, start, start + n, src, off, off + n)) {
                return false;
            }
            position += n;
            off += n;
            len -= n;
        }
        return true;
    }

    /**
     * Writes the first {@code length} body bytes to {@code out} (as HTTP chunks when asked, ending
     * with the last chunk) and returns their CRC-32.
     */
    static long write(OutputStream out, long length, boolean chunked) throws IOException {
        byte[] block = new byte[256 << 10];
        CRC32 crc = new CRC32();
        long written = 0;
        while (written < length) {
            int n = (int) Math.min(block.length, length - written);
            fill(written, block, 0, n);
            crc.update(block, 0, n);
            if (chunked) {
                out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            }
            out.write(block, 0, n);
            if (chunked) {
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            written += n;
        }
        if (chunked) {
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.flush();
        return crc.getValue();
    }

    /** CRC-32 of the first {@code length} body bytes. */
    static long crc(long length) {
        CRC32 crc = new CRC32();
        byte[] block = new byte[PERIOD];
        fill(0, block, 0, PERIOD);
        long left = length;
        while (left > 0) {
            int n = (int) Math.min(left, PERIOD);
            crc.update(block, 0, n); // the body is periodic: every period is the same block
            left -= n;
        }
        return crc.getValue();
    }
}
