package dev.scopegate.oauth;

import java.nio.charset.StandardCharsets;

/**
 * The byte-preserving codec for URI queries and {@code application/x-www-form-urlencoded} bodies.
 *
 * <p>Input model: {@code raw} is a string of bytes, one char per byte (a query as it appears on
 * the request line, without the leading {@code ?}, or a form body decoded as ISO-8859-1), so that
 * encoding it back to ISO-8859-1 restores the exact bytes. A char above U+00FF cannot come from
 * such a string; it is treated as an invalid byte.
 *
 * <p>Syntax: parameters are separated by {@code &} only ({@code ;} is ordinary data); empty
 * segments ({@code a&&b}, a leading or trailing {@code &}) are not parameters. The first
 * {@code =} of a segment separates name from value; a segment without {@code =} is a parameter
 * with value {@code ""}; {@code =x} is a parameter with the empty name.
 *
 * <p>Decoding (of names and values alike, only when asked): {@code +} is a space, {@code %XX}
 * (either hex case) is the byte XX, every other char is its own byte, and the bytes are read as
 * UTF-8. A {@code %} not followed by two hex digits stays a literal {@code %}; invalid UTF-8
 * becomes U+FFFD. Either makes {@link Params#malformed()} true.
 *
 * <p>Encoding (only of what scopegate adds): UTF-8, RFC 3986 unreserved chars as they are, every
 * other byte as {@code %XX} with upper-case hex, so a space is {@code %20}.
 *
 * <p>Stateless; safe from any thread.
 */
public final class ParamCodec {

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private ParamCodec() {
    }

    /**
     * Splits {@code raw} into parameters without decoding any of them, and checks that every name
     * and value is well formed. Never throws; {@code null} is read as {@code ""}.
     */
    public static Params parse(String raw) {
        String s = raw == null ? "" : raw;
        int len = s.length();
        int segments = 1;
        for (int i = s.indexOf('&'); i >= 0; i = s.indexOf('&', i + 1)) {
            segments++;
        }
        int[] bounds = new int[3 * segments];
        int count = 0;
        boolean malformed = false;
        int start = 0;
        while (start <= len) {
            int end = s.indexOf('&', start);
            if (end < 0) {
                end = len;
            }
            if (end > start) {
                // Bounded by the segment: indexOf('=') could run far past it and go quadratic.
                int eq = start;
                while (eq < end && s.charAt(eq) != '=') {
                    eq++;
                }
                bounds[3 * count] = start;
                bounds[3 * count + 1] = eq;
                bounds[3 * count + 2] = end;
                count++;
                if (!malformed) {
                    malformed = !wellFormed(s, start, eq) || (eq < end && !wellFormed(s, eq + 1, end));
                }
            }
            start = end + 1;
        }
        return new Params(s, bounds, count, malformed);
    }

    /** The decoded text of {@code raw[from, to)}; see the class javadoc for the rules. */
    static String decode(String raw, int from, int to) {
        int i = from;
        while (i < to && isPlain(raw.charAt(i))) {
            i++;
        }
        if (i == to) {
            return raw.substring(from, to);
        }
        // Each char yields at most one byte, so the buffer never grows.
        byte[] buf = new byte[to - from];
        int n = 0;
        for (int j = from; j < to; ) {
            char c = raw.charAt(j);
            int escaped = c == '%' ? escapeAt(raw, j, to) : -1;
            if (escaped >= 0) {
                buf[n++] = (byte) escaped;
                j += 3;
            } else {
                // 0xFF is never valid UTF-8, so a non-byte char decodes to U+FFFD like a bad byte.
                buf[n++] = (byte) (c == '+' ? ' ' : c > 0xFF ? 0xFF : c);
                j++;
            }
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    /** Whether {@code raw[from, to)} decodes to exactly {@code expected}, without allocating in the common case. */
    static boolean decodedEquals(String raw, int from, int to, String expected) {
        int rawLen = to - from;
        // Decoding never lengthens: one char per byte at most, one UTF-16 unit per byte at most.
        if (expected.length() > rawLen) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (!isPlain(raw.charAt(i))) {
                return decode(raw, from, to).equals(expected);
            }
        }
        return rawLen == expected.length() && raw.regionMatches(from, expected, 0, rawLen);
    }

    /**
     * Appends {@code text} encoded as UTF-8 with every byte outside RFC 3986 unreserved as upper-case
     * {@code %XX}.
     *
     * @throws IllegalArgumentException if {@code text} has an unpaired surrogate (it has no UTF-8 form)
     */
    static void appendEncoded(StringBuilder out, String text) {
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < 0x80) {
                if (isUnreserved(cp)) {
                    out.append((char) cp);
                } else {
                    appendByte(out, cp);
                }
            } else if (cp < 0x800) {
                appendByte(out, 0xC0 | cp >> 6);
                appendByte(out, 0x80 | cp & 0x3F);
            } else if (cp < 0x10000) {
                if (Character.isSurrogate((char) cp)) {
                    throw new IllegalArgumentException("unpaired surrogate at index " + (i - 1));
                }
                appendByte(out, 0xE0 | cp >> 12);
                appendByte(out, 0x80 | cp >> 6 & 0x3F);
                appendByte(out, 0x80 | cp & 0x3F);
            } else {
                appendByte(out, 0xF0 | cp >> 18);
                appendByte(out, 0x80 | cp >> 12 & 0x3F);
                appendByte(out, 0x80 | cp >> 6 & 0x3F);
                appendByte(out, 0x80 | cp & 0x3F);
            }
        }
    }

    /** {@code text} encoded as by {@link #appendEncoded}. */
    static String encode(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        appendEncoded(out, text);
        return out.toString();
    }

    private static void appendByte(StringBuilder out, int b) {
        out.append('%').append(HEX[b >> 4 & 0xF]).append(HEX[b & 0xF]);
    }

    private static boolean isUnreserved(int c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                || c == '-' || c == '.' || c == '_' || c == '~';
    }

    /** A char that decodes to itself. */
    private static boolean isPlain(char c) {
        return c < 0x80 && c != '%' && c != '+';
    }

    /** The byte of a valid {@code %XX} at {@code raw[i]} (within {@code to}), or -1. */
    private static int escapeAt(String raw, int i, int to) {
        if (i + 2 >= to) {
            return -1;
        }
        int hi = hexValue(raw.charAt(i + 1));
        int lo = hexValue(raw.charAt(i + 2));
        return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
    }

    /** ASCII hex only: {@code Character.digit} would also accept e.g. full-width digits. */
    private static int hexValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /**
     * Whether {@code raw[from, to)} has only valid escapes and its bytes are valid UTF-8 (no
     * overlong forms, surrogates or code points above U+10FFFF, as {@code new String(bytes,
     * UTF_8)} would accept without substitution).
     */
    static boolean wellFormed(String raw, int from, int to) {
        int pending = 0; // continuation bytes still expected
        int lower = 0x80;
        int upper = 0xBF; // range of the next continuation byte
        for (int i = from; i < to; i++) {
            char c = raw.charAt(i);
            int b;
            if (c == '%') {
                b = escapeAt(raw, i, to);
                if (b < 0) {
                    return false;
                }
                i += 2;
            } else if (c > 0xFF) {
                return false;
            } else {
                b = c; // '+' is a space: ASCII, handled below like any other
            }
            if (pending > 0) {
                if (b < lower || b > upper) {
                    return false;
                }
                pending--;
                lower = 0x80;
                upper = 0xBF;
            } else if (b >= 0x80) {
                if (b >= 0xC2 && b <= 0xDF) {
                    pending = 1;
                } else if (b >= 0xE0 && b <= 0xEF) {
                    pending = 2;
                    if (b == 0xE0) {
                        lower = 0xA0;
                    } else if (b == 0xED) {
                        upper = 0x9F;
                    }
                } else if (b >= 0xF0 && b <= 0xF4) {
                    pending = 3;
                    if (b == 0xF0) {
                        lower = 0x90;
                    } else if (b == 0xF4) {
                        upper = 0x8F;
                    }
                } else {
                    return false;
                }
            }
        }
        return pending == 0;
    }
}
