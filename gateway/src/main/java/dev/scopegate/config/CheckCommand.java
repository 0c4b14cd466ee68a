package dev.scopegate.config;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * {@code scopegate.jar check [--config] FILE}: validates a config file, and what the gateway would
 * refuse at start although the file is valid, and exits 0 or 1 without starting anything.
 * Stateless; safe to call from any thread.
 */
public final class CheckCommand {

    private CheckCommand() {
    }

    /**
     * Loads {@code config} with the process environment. On success prints {@code OK: <file>} and
     * a one-line summary to {@code out} and returns 0; otherwise prints each error on its own line
     * to {@code err} and returns 1.
     */
    public static int run(Path config, PrintStream out, PrintStream err) {
        return run(config, out, err, System::getenv);
    }

    /** As {@link #run(Path, PrintStream, PrintStream)} with an explicit environment lookup. */
    public static int run(Path config, PrintStream out, PrintStream err, Function<String, String> env) {
        return run(config, out, err, env, c -> List.of());
    }

    /**
     * As {@link #run(Path, PrintStream, PrintStream, Function)}, and a valid file is then also
     * put to {@code startChecks} (what start would refuse): each problem it names is printed as
     * {@code FILE: problem} to {@code err} and fails the check.
     */
    public static int run(Path config, PrintStream out, PrintStream err, Function<String, String> env,
                          Function<ScopegateConfig, List<String>> startChecks) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(err, "err");
        Objects.requireNonNull(startChecks, "startChecks");
        try {
            ScopegateConfig c = new ConfigLoader(env).load(config);
            List<String> refused = startChecks.apply(c);
            if (!refused.isEmpty()) {
                refused.forEach(problem -> err.println(config + ": " + problem));
                return 1;
            }
            out.println("OK: " + config);
            out.println(summary(c));
            return 0;
        } catch (ConfigException e) {
            e.errors().forEach(err::println);
            return 1;
        }
    }

    /** {@code listen 0.0.0.0:8080 (http), admin 127.0.0.1:9090, upstream http://…, store embedded (data)}. */
    static String summary(ScopegateConfig c) {
        ScopegateConfig.Listen l = c.listen();
        ScopegateConfig.Store s = c.store();
        String store = s.type() == ScopegateConfig.StoreType.REDIS
                ? "redis (" + Secrets.maskUserInfo(s.redis().uri()) + ")"
                : "embedded (" + s.path() + ")";
        return "listen " + l.host() + ":" + l.port() + (l.tls().enabled() ? " (https)" : " (http)")
                + ", admin " + c.admin().host() + ":" + c.admin().port()
                + ", upstream " + c.upstream().url()
                + ", store " + store;
    }
}
