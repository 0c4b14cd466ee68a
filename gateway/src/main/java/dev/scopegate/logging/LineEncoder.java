package dev.scopegate.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.encoder.EncoderBase;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;

/**
 * The access and audit lines' text encoder: writes exactly what Logback's
 * {@code %d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %logger{0} %msg%n} writes, without the pattern
 * machinery (converter chain, a {@code StringBuilder} and a {@code String} per line): the
 * date-time up to the second is formatted once per second and kept as bytes, and the message is
 * encoded by {@link String#getBytes} (for ASCII, as every access line is, one array copy) and
 * copied into the one line returned.
 *
 * <p>Thread-safe: called by several event loops at once. The per-second cache is an immutable
 * value in a volatile field; threads that race to replace it compute the same bytes.
 */
public final class LineEncoder extends EncoderBase<ILoggingEvent> {

    private static final byte[] SEPARATOR = CoreConstants.LINE_SEPARATOR.getBytes(StandardCharsets.US_ASCII);

    private final ZoneId zone;
    private volatile Second second = new Second(Long.MIN_VALUE, new byte[0], 0);

    /** The date-time in the JVM's default zone, as Logback's {@code %d} writes it. */
    public LineEncoder() {
        this(ZoneId.systemDefault());
    }

    LineEncoder(ZoneId zone) {
        this.zone = zone;
    }

    /** The formatted date-time of one second: {@code yyyy-MM-ddTHH:mm:ss}, then the zone offset from {@code offsetAt}. */
    private record Second(long epochSecond, byte[] text, int offsetAt) {
    }

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        return encode(event.getTimeStamp(), event.getLoggerName(), event.getFormattedMessage());
    }

    /** The line of an event at {@code millis} (epoch) of {@code logger} with {@code text} (null: "null", as %msg). */
    byte[] encode(long millis, String logger, String text) {
        Second s = second(Math.floorDiv(millis, 1000));
        int dot = logger.lastIndexOf('.');
        // For an ASCII message (every access line is) getBytes is one vectorized check and one
        // array copy, several times faster than a loop over its chars.
        byte[] message = String.valueOf(text).getBytes(StandardCharsets.UTF_8);
        byte[] name = isAscii(logger, dot + 1) ? null : logger.substring(dot + 1).getBytes(StandardCharsets.UTF_8);
        int nameLength = name == null ? logger.length() - dot - 1 : name.length;
        // date-time, ".SSS", offset, ' ', logger, ' ', message, separator
        byte[] line = new byte[s.text.length + 4 + 1 + nameLength + 1 + message.length + SEPARATOR.length];
        System.arraycopy(s.text, 0, line, 0, s.offsetAt);
        int at = s.offsetAt;
        int ms = (int) Math.floorMod(millis, 1000);
        line[at++] = '.';
        line[at++] = (byte) ('0' + ms / 100);
        line[at++] = (byte) ('0' + ms / 10 % 10);
        line[at++] = (byte) ('0' + ms % 10);
        int offsetLength = s.text.length - s.offsetAt;
        System.arraycopy(s.text, s.offsetAt, line, at, offsetLength);
        at += offsetLength;
        line[at++] = ' ';
        if (name == null) {
            at = ascii(logger, dot + 1, line, at);
        } else {
            System.arraycopy(name, 0, line, at, name.length);
            at += name.length;
        }
        line[at++] = ' ';
        System.arraycopy(message, 0, line, at, message.length);
        at += message.length;
        System.arraycopy(SEPARATOR, 0, line, at, SEPARATOR.length);
        return line;
    }

    private Second second(long epochSecond) {
        Second s = second;
        if (s.epochSecond != epochSecond) {
            s = format(epochSecond);
            second = s;
        }
        return s;
    }

    private Second format(long epochSecond) {
        ZonedDateTime t = Instant.ofEpochSecond(epochSecond).atZone(zone);
        StringBuilder b = new StringBuilder(25);
        pad(b, t.getYear(), 4).append('-');
        pad(b, t.getMonthValue(), 2).append('-');
        pad(b, t.getDayOfMonth(), 2).append('T');
        pad(b, t.getHour(), 2).append(':');
        pad(b, t.getMinute(), 2).append(':');
        pad(b, t.getSecond(), 2);
        int offsetAt = b.length();
        appendOffset(b, t.getOffset());
        return new Second(epochSecond, b.toString().getBytes(StandardCharsets.US_ASCII), offsetAt);
    }

    /** {@code XXX}: {@code Z} for UTC, else {@code +HH:MM} (the seconds of a historic offset are dropped, as DateTimeFormatter does). */
    private static void appendOffset(StringBuilder b, ZoneOffset offset) {
        int total = offset.getTotalSeconds();
        if (total == 0) {
            b.append('Z');
            return;
        }
        b.append(total < 0 ? '-' : '+');
        int minutes = Math.abs(total) / 60;
        pad(b, minutes / 60, 2).append(':');
        pad(b, minutes % 60, 2);
    }

    private static StringBuilder pad(StringBuilder b, int value, int width) {
        String digits = Integer.toString(value);
        for (int i = digits.length(); i < width; i++) {
            b.append('0');
        }
        return b.append(digits);
    }

    private static boolean isAscii(String s, int from) {
        for (int i = from, n = s.length(); i < n; i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    private static int ascii(String s, int from, byte[] into, int at) {
        for (int i = from, n = s.length(); i < n; i++) {
            into[at++] = (byte) s.charAt(i);
        }
        return at;
    }
}
