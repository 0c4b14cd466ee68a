package dev.scopegate;

import dev.scopegate.config.ScopegateConfig;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the gateway refuses to start with although the config file itself is valid: the one place
 * both {@code start} (before anything is built) and {@code check} ask, so that a file {@code check}
 * passes does not fail at start. Each problem is one line naming the key. Stateless; any thread.
 */
final class StartChecks {

    private StartChecks() {
    }

    /** Every reason {@code c} cannot start, in key order; empty when it can. */
    static List<String> problems(ScopegateConfig c) {
        List<String> problems = new ArrayList<>();
        resolvable(problems, "listen.host", c.listen().host());
        resolvable(problems, "admin.host", c.admin().host());
        String admin = unsafeAdmin(c);
        if (admin != null) {
            problems.add(admin);
        }
        if (c.store().type() == ScopegateConfig.StoreType.EMBEDDED) {
            storeDirectory(problems, c.store().path());
        }
        return problems;
    }

    /** @throws StartException naming the first problem (and how many more there are) */
    static void refuse(ScopegateConfig c) {
        List<String> problems = problems(c);
        if (!problems.isEmpty()) {
            String more = problems.size() > 1 ? " (and " + (problems.size() - 1) + " more: run check)" : "";
            throw new StartException(problems.get(0) + more);
        }
    }

    /**
     * {@code /admin/*} exposes client data: never on a non-loopback address without a token.
     * Also the rule a reload must keep (a token cannot be removed from a public admin listener).
     *
     * @return the problem, or null
     */
    static String unsafeAdmin(ScopegateConfig c) {
        String token = c.admin().token();
        if (token != null && !token.isEmpty()) {
            return null;
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(c.admin().host());
        } catch (UnknownHostException e) {
            return null; // reported by resolvable()
        }
        if (address.isLoopbackAddress()) {
            return null;
        }
        return "admin.host " + c.admin().host() + " is not a loopback address and admin.token is empty:"
                + " set a token or bind admin to 127.0.0.1";
    }

    private static void resolvable(List<String> problems, String key, String host) {
        try {
            InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            problems.add(key + " " + host + ": unknown host");
        }
    }

    /**
     * The embedded store's directory exists and is writable, or can be created: the nearest
     * existing ancestor is a writable directory.
     */
    private static void storeDirectory(List<String> problems, String path) {
        Path dir = Path.of(path).toAbsolutePath();
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) {
                problems.add("store.path " + path + ": exists and is not a directory");
            } else if (!Files.isWritable(dir)) {
                problems.add("store.path " + path + ": directory not writable");
            }
            return;
        }
        Path parent = dir.getParent();
        while (parent != null && !Files.exists(parent)) {
            parent = parent.getParent();
        }
        if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
            problems.add("store.path " + path + ": cannot be created" + (parent == null ? "" : " in " + parent));
        }
    }

    /** {@code Type: message} of {@code e} and its causes, on one line. */
    static String oneLine(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null && b.length() < 400; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            m = m == null || m.isBlank() ? t.getClass().getSimpleName() : m.replaceAll("\\s+", " ").strip();
            if (b.indexOf(m) >= 0) {
                continue; // a wrapper that repeats its cause's message
            }
            if (b.length() > 0) {
                b.append(": ");
            }
            b.append(m);
        }
        return b.toString();
    }
}
