package dev.scopegate.config;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;

/**
 * {@code scopegate.jar check --config FILE}: validates a config file and exits 0 or 1 without
 * starting anything. Stateless; safe to call from any thread.
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
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(err, "err");
        try {
            ScopegateConfig c = new ConfigLoader(env).load(config);
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
