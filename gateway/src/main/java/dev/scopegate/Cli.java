package dev.scopegate;

import dev.scopegate.config.CheckCommand;
import dev.scopegate.config.ConfigException;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.store.RegistrationStore;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * The command line of {@code scopegate.jar}: {@code start} (the default), {@code check},
 * {@code import}, {@code store copy}, {@code healthcheck} and {@code demo}, parsed by picocli.
 * Every command takes {@code --help}/{@code -h} (usage on stdout, exit 0) and {@code --version}/{@code -V}.
 * Exit codes: 0 ok, 1 failure (invalid config, unhealthy, start failed), 2 usage error. A command
 * that fails prints one line per problem on stderr, never a stack trace.
 *
 * <p>{@code start} and {@code demo} block the calling thread for the life of the process (shutdown
 * hooks stop them); the others return. One instance per invocation.
 */
public final class Cli {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    /** How long {@code healthcheck} waits to connect, and then for the answer. */
    static final Duration HEALTHCHECK_TIMEOUT = Duration.ofSeconds(2);

    private static final String EXIT_CODES = "%nExit codes: 0 ok; 1 failure (invalid config, unhealthy, "
            + "start failed); 2 usage error.";

    private final PrintStream out;
    private final PrintStream err;
    private final Function<String, String> env;

    Cli(PrintStream out, PrintStream err, Function<String, String> env) {
        this.out = Objects.requireNonNull(out, "out");
        this.err = Objects.requireNonNull(err, "err");
        this.env = Objects.requireNonNull(env, "env");
    }

    public static void main(String[] args) {
        JvmDefaults.apply(); // before anything loads Netty
        System.exit(execute(args, System.out, System.err));
    }

    /** Runs {@code args} with the process environment; returns the exit code (start and demo return only on failure). */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        return new Cli(out, err, System::getenv).commandLine().execute(args);
    }

    /** The command tree, its streams set: help and version on {@code out}, usage errors on {@code err}. */
    CommandLine commandLine() {
        CommandLine root = new CommandLine(new Main());
        root.addSubcommand(new Start());
        root.addSubcommand(new Check());
        root.addSubcommand(new Import());
        root.addSubcommand(new CommandLine(new Store()).addSubcommand(new StoreCopy()));
        root.addSubcommand(new Healthcheck());
        root.addSubcommand(new Demo());
        root.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        root.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        root.setParameterExceptionHandler(this::usageError);
        root.setExecutionExceptionHandler((e, cmd, parsed) -> {
            err.println(cmd.getCommandName() + ": " + StartChecks.oneLine(e));
            return FAILED;
        });
        return root;
    }

    /** The message, a suggestion for a misspelt option or command, and where the help is: no full usage dump. */
    private int usageError(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        err.println(e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, cmd.getErr());
        cmd.getErr().flush();
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        return USAGE;
    }

    /** Picocli's {@code --version}: scopegate's version and git revision, then the Java runtime. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return BuildInfo.current().describe();
        }
    }

    @Command(name = "scopegate.jar", mixinStandardHelpOptions = true, versionProvider = Version.class,
            synopsisSubcommandLabel = "[COMMAND]",
            description = {"scopegate: adds the missing scope to OAuth 2.0 authorization requests in front of an IdP.",
                    "Without a command, runs the gateway (start)."},
            footer = EXIT_CODES)
    final class Main implements Callable<Integer> {
        @Option(names = "--config", paramLabel = "FILE", defaultValue = Gateway.DEFAULT_CONFIG,
                description = "config file (default: ${DEFAULT-VALUE})")
        Path config;

        @Override
        public Integer call() {
            return start(config);
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Runs the gateway until SIGTERM or SIGINT (graceful drain); the config file is watched and "
                    + "reloaded on change and on SIGHUP."}, footer = EXIT_CODES)
    final class Start implements Callable<Integer> {
        @Option(names = "--config", paramLabel = "FILE", defaultValue = Gateway.DEFAULT_CONFIG,
                description = "config file (default: ${DEFAULT-VALUE})")
        Path config;

        @Override
        public Integer call() {
            return start(config);
        }
    }

    /** Loads, refuses or starts, then blocks: the shutdown hook drains and stops. */
    private int start(Path file) {
        ScopegateConfig c;
        try {
            c = new ConfigLoader(env).load(file);
        } catch (ConfigException e) {
            e.errors().forEach(err::println);
            return FAILED;
        }
        if (c.logging().json()) {
            Logs.useJson();
        }
        Gateway gateway;
        try {
            gateway = Gateway.start(file, env);
        } catch (ConfigException e) { // the file changed since it was read above
            e.errors().forEach(err::println);
            return FAILED;
        } catch (Exception e) {
            err.println("scopegate: cannot start: " + StartChecks.oneLine(e));
            LoggerFactory.getLogger(Cli.class).debug("start failed", e);
            return FAILED;
        }
        // Logging stops last, so the access lines of the drained requests are written too.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gateway.close();
            Logs.stop();
        }, "scopegate-shutdown"));
        return waitForShutdown();
    }

    private static int waitForShutdown() {
        try {
            Thread.currentThread().join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return OK;
    }

    @Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Validates a config file without starting anything: the file itself (every error with "
                    + "file:line:col and key) and everything start would refuse (admin on a public address "
                    + "without a token, an unknown host, a TLS certificate that does not load, an unusable "
                    + "store directory).",
                    "Prints OK and a summary on stdout, or each problem on stderr."}, footer = EXIT_CODES)
    final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(arity = "0..1", paramLabel = "FILE", description = "config file")
        Path file;
        @Option(names = "--config", paramLabel = "FILE", description = "config file (same as FILE)")
        Path config;

        @Override
        public Integer call() {
            if (file != null && config != null) {
                throw new ParameterException(spec.commandLine(), "check: give the file once, as FILE or --config FILE");
            }
            Path target = file != null ? file : config;
            if (target == null) {
                throw new ParameterException(spec.commandLine(), "check: which file? give FILE or --config FILE");
            }
            return CheckCommand.run(target, out, err, env, StartChecks::problems);
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Loads registrations that existed before scopegate was deployed into the store the config "
                    + "names: a JSON array or JSON lines of RFC 7591 client metadata objects with client_id."},
            footer = EXIT_CODES)
    final class Import implements Callable<Integer> {
        @Option(names = "--config", paramLabel = "FILE", defaultValue = Gateway.DEFAULT_CONFIG,
                description = "config file (default: ${DEFAULT-VALUE})")
        Path config;
        @Parameters(index = "0", paramLabel = "REGISTRATIONS", description = "the registrations file")
        Path registrations;

        @Override
        public Integer call() {
            ScopegateConfig c;
            try {
                c = new ConfigLoader(env).load(config);
            } catch (ConfigException e) {
                e.errors().forEach(err::println);
                return FAILED;
            }
            try (RegistrationStore s = Stores.open(c, false)) {
                return ImportCommand.run(registrations, s, out, err);
            }
        }
    }

    @Command(name = "store", mixinStandardHelpOptions = true, versionProvider = Version.class,
            synopsisSubcommandLabel = "COMMAND", description = "Store maintenance.", footer = EXIT_CODES)
    final class Store {
    }

    @Command(name = "copy", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Copies every registration from one store to the other, both as the config names them "
                    + "(store.path, store.redis; store.type does not matter). An entry the target holds with a later "
                    + "update is kept. Run it before switching store.type; running it again is harmless."},
            footer = EXIT_CODES)
    final class StoreCopy implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--from", required = true, paramLabel = "STORE", description = "embedded or redis")
        String from;
        @Option(names = "--to", required = true, paramLabel = "STORE", description = "redis or embedded")
        String to;
        @Option(names = "--config", paramLabel = "FILE", defaultValue = Gateway.DEFAULT_CONFIG,
                description = "config file (default: ${DEFAULT-VALUE})")
        Path config;

        @Override
        public Integer call() {
            StoreCopyCommand.Kind source = kind("--from", from);
            StoreCopyCommand.Kind target = kind("--to", to);
            if (source == target) {
                throw new ParameterException(spec.commandLine(), "--from and --to name the same store: " + from);
            }
            return StoreCopyCommand.run(source, config, out, err);
        }

        private StoreCopyCommand.Kind kind(String option, String value) {
            return switch (value) {
                case "embedded" -> StoreCopyCommand.Kind.EMBEDDED;
                case "redis" -> StoreCopyCommand.Kind.REDIS;
                default -> throw new ParameterException(spec.commandLine(),
                        option + " " + value + ": unknown store (embedded or redis)");
            };
        }
    }

    @Command(name = "healthcheck", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"GETs /healthz of a running gateway: exit 0 on 200, else 1. For container images without a "
                    + "shell or curl. Waits at most 2 s to connect and 2 s for the answer.",
                    "The URL is --url, or the admin listener of --config's file (a wildcard admin.host is asked "
                            + "on loopback); without either, the default config file's."},
            footer = EXIT_CODES)
    final class Healthcheck implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--url", paramLabel = "URL",
                description = "what to GET, e.g. http://127.0.0.1:9090/healthz (no path: /healthz)")
        URI url;
        @Option(names = "--config", paramLabel = "FILE", description = "config file (default: "
                + Gateway.DEFAULT_CONFIG + ")")
        Path config;

        @Override
        public Integer call() {
            if (url != null && config != null) {
                throw new ParameterException(spec.commandLine(), "healthcheck: give --url or --config, not both");
            }
            URI target;
            if (url != null) {
                if (url.getScheme() == null || url.getHost() == null
                        || !(url.getScheme().equals("http") || url.getScheme().equals("https"))) {
                    throw new ParameterException(spec.commandLine(), "--url " + url + ": not an http(s) URL");
                }
                target = url.getRawPath() == null || url.getRawPath().isEmpty() || url.getRawPath().equals("/")
                        ? url.resolve("/healthz") : url;
            } else {
                Path file = config != null ? config : Path.of(Gateway.DEFAULT_CONFIG);
                try {
                    target = healthzOf(new ConfigLoader(env).load(file));
                } catch (ConfigException e) {
                    e.errors().forEach(err::println);
                    return FAILED;
                } catch (IllegalArgumentException e) {
                    err.println("healthcheck: " + file + ": " + e.getMessage());
                    return FAILED;
                }
            }
            return healthcheck(target);
        }
    }

    /**
     * {@code /healthz} on the health listener when {@code health.port} is set, else on the admin
     * listener; a wildcard host is asked on loopback.
     */
    static URI healthzOf(ScopegateConfig c) {
        boolean probes = c.health().listenerEnabled();
        int port = probes ? c.health().port() : c.admin().port();
        if (port == 0) {
            throw new IllegalArgumentException("admin.port is 0 (a free port chosen at start): give --url");
        }
        String host = probes ? c.health().host() : c.admin().host();
        try {
            InetAddress a = InetAddress.getByName(host);
            if (a.isAnyLocalAddress()) {
                host = a instanceof java.net.Inet6Address ? "::1" : "127.0.0.1";
            }
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("admin.host " + host + ": unknown host");
        }
        String authority = host.contains(":") ? "[" + host + "]" : host;
        return URI.create("http://" + authority + ":" + port + "/healthz");
    }

    private int healthcheck(URI target) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(HEALTHCHECK_TIMEOUT).build();
        HttpRequest request = HttpRequest.newBuilder(target).timeout(HEALTHCHECK_TIMEOUT).GET().build();
        try {
            int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status == 200) {
                out.println("healthy: " + target + " 200");
                return OK;
            }
            err.println("unhealthy: " + target + " " + status);
        } catch (ConnectException e) {
            err.println("unhealthy: " + target + ": connection refused");
        } catch (HttpTimeoutException e) {
            err.println("unhealthy: " + target + ": no answer within " + HEALTHCHECK_TIMEOUT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("unhealthy: " + target + ": interrupted");
        } catch (Exception e) {
            err.println("unhealthy: " + target + ": " + StartChecks.oneLine(e));
        }
        return FAILED;
    }

    @Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"A first look: starts, on loopback, a demo legacy IdP that refuses authorization requests "
                    + "without scope, and scopegate in front of it (embedded store in a temporary directory, "
                    + "deleted on exit), then prints the commands to paste to see scopegate add the scope.",
                    "Ports 8080 (scopegate), 9090 (admin) and 8081 (IdP) when free, else free ones; Ctrl-C stops it."},
            footer = EXIT_CODES)
    final class Demo implements Callable<Integer> {
        @Option(names = "--ephemeral-ports", description = "always use free ports chosen by the system")
        boolean ephemeral;

        @Override
        public Integer call() {
            DemoRun demo;
            try {
                demo = DemoRun.start(ephemeral, env);
            } catch (Exception e) {
                err.println("scopegate demo: cannot start: " + StartChecks.oneLine(e));
                return FAILED;
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                demo.close();
                Logs.stop();
            }, "scopegate-demo-shutdown"));
            out.print(demo.instructions());
            out.flush();
            return waitForShutdown();
        }
    }
}
