package dev.scopegate;

import io.netty.util.ResourceLeakDetector;

/**
 * Process-wide settings of the shipped gateway, in one place: {@link Cli} applies them before
 * anything touches Netty (some are read once, when Netty's classes load). Each is a default: a
 * {@code -D} on the command line wins. Tests run with their own ({@code argLine} in the pom).
 */
final class JvmDefaults {

    /**
     * Caffeine reports a failed asynchronous load through java.util.logging with a stack trace,
     * once per failed store read: the store already logs and counts those (store errors), so the
     * duplicate is switched off. Held here: JUL keeps loggers only weakly.
     */
    private static final java.util.logging.Logger CAFFEINE_LOG = quiet("com.github.benmanes.caffeine");

    private JvmDefaults() {
    }

    /** Sets the defaults below; call before Netty allocates anything. */
    static void apply() {
        quietLeakDetection();
        eventLoopBuffers();
        quietCaffeine();
    }

    /**
     * Netty's adaptive buffer allocator counts a heap of 512 MiB or less as "low memory" and then
     * gives event loops no magazines of their own: every buffer taken goes through a shared
     * magazine's lock (the top frame of 7.6 % of the event loop's samples in the load test's
     * profile at {@code -Xmx128m}; 1.5–3 % of CPU per request). Buffers are off-heap and the
     * gateway runs one event loop per core, so it keeps per-thread magazines unless
     * {@code -Dio.netty.allocator.lowMemory} says otherwise. Must run before Netty allocates.
     */
    private static void eventLoopBuffers() {
        if (System.getProperty("io.netty.allocator.lowMemory") == null) {
            System.setProperty("io.netty.allocator.lowMemory", "false");
        }
    }

    /**
     * Netty's buffer leak detector samples one buffer in 128 and records a stack trace for it:
     * about 2 % of the CPU of a proxied request. Every test runs it at its most thorough level
     * (paranoid); the shipped gateway turns it off unless {@code -Dio.netty.leakDetection.level}
     * asks for it.
     */
    private static void quietLeakDetection() {
        if (System.getProperty("io.netty.leakDetection.level") == null
                && System.getProperty("io.netty.leakDetectionLevel") == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
    }

    /**
     * Switches off Caffeine's duplicate report of failed loads ({@link #CAFFEINE_LOG}). Also done
     * when a {@link Gateway} is first built, so gateways embedded in tests log as the shipped one.
     */
    static void quietCaffeine() {
        // the class initializer did it; calling this makes sure the class is initialized
        CAFFEINE_LOG.getLevel();
    }

    private static java.util.logging.Logger quiet(String name) {
        java.util.logging.Logger l = java.util.logging.Logger.getLogger(name);
        l.setLevel(java.util.logging.Level.OFF);
        return l;
    }
}
