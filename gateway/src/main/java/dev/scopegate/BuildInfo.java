package dev.scopegate;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Which build this is: the Maven project version and the git revision it was built from, both
 * written into {@code build-info.properties} at build time ({@code gateway/pom.xml}). A build
 * from a tree without {@code .git}, or classes compiled outside Maven, read {@value #UNKNOWN}.
 * Immutable.
 */
record BuildInfo(String version, String revision) {

    static final String UNKNOWN = "unknown";
    private static final String RESOURCE = "build-info.properties";

    /** The build of the classes on the class path; never fails. */
    static BuildInfo current() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // an unreadable resource is an unknown build, not a failure
        }
        return new BuildInfo(value(p, "version"), value(p, "revision"));
    }

    /** An unfilled {@code ${...}} placeholder (no .git at build time) or a blank is unknown. */
    static String value(Properties p, String key) {
        String v = p.getProperty(key, "").strip();
        return v.isEmpty() || v.contains("${") ? UNKNOWN : v;
    }

    /** The lines of {@code --version}: scopegate's version and revision, then the Java runtime. */
    String[] describe() {
        return new String[]{
                "scopegate " + version + " (revision " + revision + ")",
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ", "
                        + System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version") + ")"};
    }
}
