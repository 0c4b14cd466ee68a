package dev.scopegate.config;

import dev.scopegate.config.Problems.Mark;
import dev.scopegate.config.ScopegateConfig.Admin;
import dev.scopegate.config.ScopegateConfig.Augment;
import dev.scopegate.config.ScopegateConfig.Cache;
import dev.scopegate.config.ScopegateConfig.Document;
import dev.scopegate.config.ScopegateConfig.Endpoints;
import dev.scopegate.config.ScopegateConfig.Family;
import dev.scopegate.config.ScopegateConfig.Health;
import dev.scopegate.config.ScopegateConfig.Learn;
import dev.scopegate.config.ScopegateConfig.Limits;
import dev.scopegate.config.ScopegateConfig.Listen;
import dev.scopegate.config.ScopegateConfig.Logging;
import dev.scopegate.config.ScopegateConfig.Metadata;
import dev.scopegate.config.ScopegateConfig.OfflineAccessPrompt;
import dev.scopegate.config.ScopegateConfig.OnUnresolved;
import dev.scopegate.config.ScopegateConfig.Redis;
import dev.scopegate.config.ScopegateConfig.Registrations;
import dev.scopegate.config.ScopegateConfig.Resource;
import dev.scopegate.config.ScopegateConfig.Route;
import dev.scopegate.config.ScopegateConfig.Scope;
import dev.scopegate.config.ScopegateConfig.Source;
import dev.scopegate.config.ScopegateConfig.Store;
import dev.scopegate.config.ScopegateConfig.StoreType;
import dev.scopegate.config.ScopegateConfig.Tls;
import dev.scopegate.config.ScopegateConfig.Trigger;
import dev.scopegate.config.ScopegateConfig.UnknownClients;
import dev.scopegate.config.ScopegateConfig.Upstream;
import dev.scopegate.config.ScopegateConfig.UpstreamTls;
import dev.scopegate.config.YamlNode.Entry;
import dev.scopegate.config.YamlNode.Kind;
import dev.scopegate.config.YamlNode.Mapping;
import dev.scopegate.config.YamlNode.Scalar;
import dev.scopegate.config.YamlNode.Sequence;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Maps a {@link YamlNode} tree onto {@link ScopegateConfig}, filling defaults and validating every
 * value. A bad value is reported to {@link Problems} and replaced by its default so that binding
 * goes on and later errors are found in the same pass. The defaults live here and nowhere else.
 * Not thread-safe: one per load.
 */
final class Binder {

    static final int MIN_LIMIT_BYTES = 1024;

    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(10);
    private static final URI UPSTREAM_URL = URI.create("http://127.0.0.1:8081");
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration METADATA_REFRESH = Duration.ofMinutes(5);
    private static final List<Source> SOURCES = List.of(
            Source.CLIENT, Source.REGISTERED, Source.LEARNED, Source.DOCUMENT, Source.RESOURCE, Source.DEFAULT);
    private static final Duration DOCUMENT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration EXPIRE_AFTER_ACCESS = Duration.ofDays(30);

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");
    private static final Pattern FAMILY_NAME = Pattern.compile("[a-z0-9_.-]+");
    private static final Pattern HOST_RULE = Pattern.compile("(\\*\\.)?[a-z0-9_-]+(\\.[a-z0-9_-]+)*");
    private static final List<String> REDIS_SCHEMES = List.of("redis://", "rediss://", "redis-sentinel://");

    private final Interpolator interpolator;
    private final Problems problems;

    Binder(Interpolator interpolator, Problems problems) {
        this.interpolator = interpolator;
        this.problems = problems;
    }

    /** @param root the document's root, or null for an empty document */
    ScopegateConfig bind(YamlNode root) {
        Section top;
        if (root == null || isNull(root)) {
            top = new Section("", null, Mark.START);
        } else if (root instanceof Mapping m) {
            top = new Section("", m, m.mark());
        } else {
            problems.add(root.mark(), "", "the file must be a mapping of sections (listen:, upstream:, …), got "
                    + YamlNode.describe(root));
            top = new Section("", null, root.mark());
        }

        Section listenSection = top.section("listen");
        Listen listen = listen(listenSection);
        Section adminSection = top.section("admin");
        Admin admin = admin(adminSection);
        checkPorts(listen, admin, listenSection, adminSection);
        URI publicBaseUrl = top.url("public-base-url", null);
        List<Cidr> trustedProxies = trustedProxies(top);
        Upstream upstream = upstream(top.section("upstream"));
        List<ScopegateConfig.Route> routes = routes(top);
        Metadata metadata = metadata(top.section("metadata"), publicBaseUrl);
        Endpoints endpoints = endpoints(top.section("endpoints"));
        Scope scope = scope(top.section("scope"));
        List<Resource> resources = resources(top);
        Limits limits = limits(top.section("limits"));
        Store store = store(top.section("store"));
        Cache cache = cache(top.section("cache"));
        Logging logging = logging(top.section("logging"));
        Health health = health(top.section("health"), listen, admin);
        top.finish();
        return new ScopegateConfig(listen, admin, publicBaseUrl, trustedProxies, upstream, routes, metadata,
                endpoints, scope, resources, limits, store, cache, logging, health);
    }

    // ---- sections ----------------------------------------------------------------------------

    private Listen listen(Section s) {
        String host = s.host("host", "0.0.0.0");
        int port = s.port("port", 8080);
        Section t = s.section("tls");
        String cert = t.nullableString("cert");
        String key = t.nullableString("key");
        t.finish();
        if ((cert == null) != (key == null)) {
            String missing = cert == null ? "cert" : "key";
            problems.add(t.mark, t.path(missing), "set both tls.cert and tls.key for TLS, or neither for plain HTTP");
        } else if (cert != null) {
            checkKeyPair(t, cert, key);
        }
        Duration drain = s.duration("drain-timeout", DRAIN_TIMEOUT, true);
        s.finish();
        return new Listen(host, port, new Tls(cert, key), drain);
    }

    private boolean checkReadableFile(Section s, String key, String file) {
        boolean ok;
        try {
            Path p = Path.of(file);
            ok = Files.isRegularFile(p) && Files.isReadable(p);
        } catch (InvalidPathException e) {
            ok = false;
        }
        if (!ok) {
            problems.add(s.markOf(key), s.path(key), "'" + file + "' is not a readable file"
                    + " (relative paths are resolved against the working directory)");
        }
        return ok;
    }

    /**
     * {@code cert} and {@code key} of section {@code s}: readable PEM files, a certificate chain and a
     * private key that belongs to its first certificate ({@link PemFiles}).
     */
    private void checkKeyPair(Section s, String cert, String key) {
        List<java.security.cert.X509Certificate> chain = pem(s, "cert", cert, PemFiles::certificates);
        java.security.PrivateKey privateKey = pem(s, "key", key, PemFiles::privateKey);
        if (chain != null && privateKey != null) {
            try {
                PemFiles.checkPair(privateKey, chain.get(0));
            } catch (PemFiles.PemException e) {
                problems.add(s.markOf("key"), s.path("key"), "'" + key + "': " + e.getMessage() + " in "
                        + s.path("cert") + " '" + cert + "'");
            }
        }
    }

    private interface PemReader<T> {
        T read(byte[] pem) throws PemFiles.PemException;
    }

    /** The content of PEM file {@code file} under {@code key}, or null (reported) when unreadable or invalid. */
    private <T> T pem(Section s, String key, String file, PemReader<T> reader) {
        if (!checkReadableFile(s, key, file)) {
            return null;
        }
        try {
            return reader.read(Files.readAllBytes(Path.of(file)));
        } catch (java.io.IOException e) {
            problems.add(s.markOf(key), s.path(key), "'" + file + "' cannot be read: " + e.getMessage());
        } catch (PemFiles.PemException e) {
            problems.add(s.markOf(key), s.path(key), "'" + file + "' " + e.getMessage());
        }
        return null;
    }

    private Admin admin(Section s) {
        String host = s.host("host", "127.0.0.1");
        int port = s.port("port", 9090);
        String token = s.string("token", "");
        String tokenFile = s.nullableString("token-file");
        if (tokenFile != null && !token.isEmpty()) {
            problems.add(s.markOf("token-file"), s.path("token-file"),
                    "set admin.token or admin.token-file, not both (admin.token is not empty)");
        } else if (tokenFile != null) {
            String fromFile = secretFile(s, "token-file", tokenFile);
            token = fromFile == null ? "" : fromFile;
        }
        s.finish();
        return new Admin(host, port, token, tokenFile);
    }

    /**
     * The trimmed UTF-8 content of a secret file such as a mounted Kubernetes secret; null
     * (reported, naming the key and the file but never the content) when it cannot be read or is
     * empty. Read at each load, so a reload picks up a rotated secret.
     */
    private String secretFile(Section s, String key, String file) {
        String why;
        try {
            Path p = Path.of(file);
            if (Files.isDirectory(p)) {
                why = "is a directory, not a file";
            } else {
                String content = Files.readString(p, StandardCharsets.UTF_8).strip();
                if (!content.isEmpty()) {
                    return content;
                }
                why = "is empty";
            }
        } catch (InvalidPathException e) {
            why = "is not a valid path";
        } catch (NoSuchFileException e) {
            why = "does not exist";
        } catch (AccessDeniedException e) {
            why = "is not readable (permission denied)";
        } catch (CharacterCodingException e) {
            why = "is not UTF-8 text";
        } catch (IOException e) {
            why = "cannot be read (" + e.getClass().getSimpleName() + ")";
        }
        problems.add(s.markOf(key), s.path(key), "'" + file + "' " + why
                + " (relative paths are resolved against the working directory)");
        return null;
    }

    private void checkPorts(Listen listen, Admin admin, Section listenSection, Section adminSection) {
        if (listen.port() == 0 || listen.port() != admin.port()) {
            return;
        }
        boolean overlap = listen.host().equals(admin.host()) || isWildcard(listen.host()) || isWildcard(admin.host());
        if (!overlap) {
            return;
        }
        // Point at whichever port the operator actually wrote.
        if (adminSection.has("port") || !listenSection.has("port")) {
            problems.add(adminSection.markOf("port"), adminSection.path("port"),
                    "the admin listener cannot share port " + admin.port() + " with the proxy listener (listen.port)");
        } else {
            problems.add(listenSection.markOf("port"), listenSection.path("port"),
                    "the proxy listener cannot share port " + listen.port() + " with the admin listener (admin.port)");
        }
    }

    private Health health(Section s, Listen listen, Admin admin) {
        String host = s.host("host", "0.0.0.0");
        int port = s.port("port", 0);
        boolean storeRequired = s.bool("store-required", false);
        s.finish();
        if (port != 0 && port == listen.port() && overlap(host, listen.host())) {
            problems.add(s.markOf("port"), s.path("port"),
                    "the health listener cannot share port " + port + " with the proxy listener (listen.port)");
        } else if (port != 0 && port == admin.port() && overlap(host, admin.host())) {
            problems.add(s.markOf("port"), s.path("port"),
                    "the health listener cannot share port " + port + " with the admin listener (admin.port)");
        }
        return new Health(host, port, storeRequired);
    }

    private static boolean overlap(String a, String b) {
        return a.equals(b) || isWildcard(a) || isWildcard(b);
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    private List<Cidr> trustedProxies(Section top) {
        List<Cidr> out = new ArrayList<>();
        for (Item item : top.items("trusted-proxies")) {
            String text = text(item.node(), item.path());
            if (text == null) {
                continue;
            }
            try {
                out.add(Cidr.parse(text));
            } catch (IllegalArgumentException e) {
                problems.add(item.node().mark(), item.path(), e.getMessage() + " (write an address or CIDR such as 10.0.0.0/8)");
            }
        }
        return out;
    }

    private Upstream upstream(Section s) {
        URI url = s.url("url", UPSTREAM_URL);
        Duration connect = s.duration("connect-timeout", CONNECT_TIMEOUT, false);
        Duration response = s.duration("response-timeout", RESPONSE_TIMEOUT, false);
        Duration read = s.duration("read-timeout", READ_TIMEOUT, true);
        int maxConnections = s.integer("max-connections", 512, 1, Integer.MAX_VALUE);
        Duration idle = s.duration("idle-timeout", IDLE_TIMEOUT, false);
        boolean rewriteHost = s.bool("rewrite-host", false);
        UpstreamTls tls = upstreamTls(s.section("tls"), url);
        s.finish();
        return new Upstream(url, connect, response, read, maxConnections, idle, rewriteHost, tls);
    }

    private UpstreamTls upstreamTls(Section t, URI url) {
        String ca = t.nullableString("ca");
        String cert = t.nullableString("cert");
        String key = t.nullableString("key");
        t.finish();
        if (ca != null) {
            pem(t, "ca", ca, PemFiles::certificates);
        }
        if ((cert == null) != (key == null)) {
            String missing = cert == null ? "cert" : "key";
            problems.add(t.mark, t.path(missing), "set both tls.cert and tls.key for a client certificate (mTLS),"
                    + " or neither");
        } else if (cert != null) {
            checkKeyPair(t, cert, key);
        }
        UpstreamTls tls = new UpstreamTls(ca, cert, key);
        if (tls.configured() && !"https".equalsIgnoreCase(url.getScheme())) {
            problems.add(t.mark, t.path, "applies to an https IdP, but upstream.url is " + url
                    + ": write https://, or remove upstream.tls");
        }
        return tls;
    }

    private List<Route> routes(Section top) {
        List<Route> out = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        for (Item item : top.items("routes")) {
            Section r = item.section();
            if (r == null) {
                continue;
            }
            String prefix = r.required("prefix") ? r.urlPath("prefix") : null;
            URI url = r.required("url") ? r.url("url", null) : null;
            boolean rewriteHost = r.bool("rewrite-host", false);
            Duration readTimeout = r.duration("read-timeout", null, true); // null: upstream.read-timeout
            r.finish();
            if (prefix != null) {
                String first = seen.putIfAbsent(prefix, r.path);
                if (first != null) {
                    problems.add(r.markOf("prefix"), r.path("prefix"), "prefix '" + prefix + "' is already routed by " + first);
                }
            }
            if (prefix != null && url != null) {
                out.add(new Route(prefix, url, rewriteHost, readTimeout));
            }
        }
        return out;
    }

    private Metadata metadata(Section s, URI publicBaseUrl) {
        Duration refresh = s.duration("refresh", METADATA_REFRESH, false);
        Section a = s.section("augment");
        List<String> scopesSupported = a.scopeTokens("scopes-supported", null, false);
        boolean rewriteOrigin = a.bool("rewrite-origin", false);
        if (rewriteOrigin && publicBaseUrl == null) {
            problems.add(a.markOf("rewrite-origin"), a.path("rewrite-origin"),
                    "needs public-base-url: it is the origin endpoint URLs are rewritten to");
        }
        a.finish();
        s.finish();
        return new Metadata(refresh, new Augment(scopesSupported, rewriteOrigin));
    }

    private Endpoints endpoints(Section s) {
        Endpoints e = new Endpoints(s.urlPath("authorization"), s.urlPath("par"), s.urlPath("registration"),
                s.urlPath("token"));
        s.finish();
        return e;
    }

    private Scope scope(Section s) {
        Trigger trigger = s.choice("trigger", Trigger.class, Trigger.MISSING_OR_EMPTY);
        List<Source> sources = sources(s);
        String defaultScope = s.string("default", "");
        List<String> deny = s.scopeTokens("deny", List.of(), true);
        boolean onlySupported = s.bool("only-supported", true);
        boolean acceptCommas = s.bool("accept-commas", true);
        OnUnresolved onUnresolved = s.choice("on-unresolved", OnUnresolved.class, OnUnresolved.FORWARD);
        OfflineAccessPrompt offlineAccessPrompt = s.choice("offline-access-prompt", OfflineAccessPrompt.class,
                OfflineAccessPrompt.CONSENT);
        boolean dryRun = s.bool("dry-run", false);
        Map<String, String> clients = clients(s);
        List<Family> families = families(s);
        Section l = s.section("learn");
        Learn learn = new Learn(l.bool("authorize", true), l.bool("token", true));
        l.finish();
        Section d = s.section("document");
        Document document = new Document(d.bool("allow-private", false),
                d.integer("max-bytes", 65536, MIN_LIMIT_BYTES, Integer.MAX_VALUE),
                d.duration("timeout", DOCUMENT_TIMEOUT, false));
        d.finish();
        s.finish();
        return new Scope(trigger, sources, defaultScope, deny, onlySupported, acceptCommas, onUnresolved,
                offlineAccessPrompt, dryRun, clients, families, learn, document);
    }

    private List<Source> sources(Section s) {
        YamlNode node = s.node("sources");
        if (node == null) {
            return SOURCES;
        }
        List<Item> items = s.items("sources");
        if (!(node instanceof Sequence)) {
            return SOURCES;
        }
        Set<Source> seen = EnumSet.noneOf(Source.class);
        List<Source> out = new ArrayList<>();
        for (Item item : items) {
            Source source = choice(item.node(), item.path(), Source.class);
            if (source != null && !seen.add(source)) {
                problems.add(item.node().mark(), item.path(), "'" + kebab(source) + "' is listed twice");
            } else if (source != null) {
                out.add(source);
            }
        }
        if (items.isEmpty()) {
            problems.add(node.mark(), s.path("sources"), "must name at least one source ("
                    + choices(Source.class) + ")");
            return SOURCES;
        }
        return out.isEmpty() ? SOURCES : out;
    }

    private Map<String, String> clients(Section s) {
        Section c = s.section("clients");
        Map<String, String> out = new LinkedHashMap<>();
        // Keys here are client_ids, not config keys: no unknown-key check (no c.finish()).
        if (c.map == null) {
            return out;
        }
        for (Entry e : c.map.entries().values()) {
            String path = c.path(e.key());
            if (e.key().isBlank()) {
                problems.add(e.keyMark(), path, "a client_id key must not be empty");
                continue;
            }
            if (isNull(e.value())) {
                problems.add(e.value().mark(), path, "give the scope for client '" + e.key() + "'");
                continue;
            }
            String scope = text(e.value(), path);
            if (scope != null) {
                out.put(e.key(), scope);
            }
        }
        return out;
    }

    private List<Family> families(Section s) {
        List<Family> out = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        for (Item item : s.items("families")) {
            Section f = item.section();
            if (f == null) {
                continue;
            }
            String name = f.required("name") ? f.string("name", null) : null;
            if (name != null && !FAMILY_NAME.matcher(name).matches()) {
                problems.add(f.markOf("name"), f.path("name"), "'" + name + "' must match [a-z0-9_.-]+ (it becomes a metric label)");
                name = null;
            }
            if (name != null) {
                String first = seen.putIfAbsent(name, f.path);
                if (first != null) {
                    problems.add(f.markOf("name"), f.path("name"), "family '" + name + "' is already defined by " + first);
                }
            }
            List<String> hosts = redirectHosts(f);
            String scope = f.nullableString("scope");
            f.finish();
            if (name != null && !hosts.isEmpty()) {
                out.add(new Family(name, hosts, scope));
            }
        }
        return out;
    }

    private List<String> redirectHosts(Section f) {
        if (!f.required("redirect-hosts")) {
            return List.of();
        }
        List<String> hosts = new ArrayList<>();
        List<Item> items = f.items("redirect-hosts");
        for (Item item : items) {
            String host = text(item.node(), item.path());
            if (host == null) {
                continue;
            }
            // Host names compare case-insensitively; store them the way the matcher will compare.
            String normalized = host.trim().toLowerCase(Locale.ROOT);
            if (!HOST_RULE.matcher(normalized).matches()) {
                problems.add(item.node().mark(), item.path(), "'" + host + "' is not a host name or *.suffix rule"
                        + " (write chatgpt.com or *.example.com, without scheme, port or path)");
            } else {
                hosts.add(normalized);
            }
        }
        if (items.isEmpty() && f.node("redirect-hosts") instanceof Sequence) {
            problems.add(f.markOf("redirect-hosts"), f.path("redirect-hosts"), "must list at least one host");
        }
        return hosts;
    }

    private List<Resource> resources(Section top) {
        List<Resource> out = new ArrayList<>();
        for (Item item : top.items("resources")) {
            Section r = item.section();
            if (r == null) {
                continue;
            }
            URI resource = r.required("resource") ? r.url("resource", null) : null;
            List<String> scopes = r.scopeTokens("scopes-supported", List.of(), false);
            r.finish();
            if (resource != null) {
                out.add(new Resource(resource, scopes));
            }
        }
        return out;
    }

    private Limits limits(Section s) {
        Limits l = new Limits(
                s.integer("max-header-bytes", 16384, MIN_LIMIT_BYTES, Integer.MAX_VALUE),
                s.integer("max-initial-line-bytes", 8192, MIN_LIMIT_BYTES, Integer.MAX_VALUE),
                s.integer("max-form-bytes", 65536, MIN_LIMIT_BYTES, Integer.MAX_VALUE),
                s.integer("max-capture-bytes", 262144, MIN_LIMIT_BYTES, Integer.MAX_VALUE));
        s.finish();
        return l;
    }

    private Store store(Section s) {
        StoreType type = s.choice("type", StoreType.class, StoreType.EMBEDDED);
        String path = s.string("path", "data");
        if (path.isBlank()) {
            problems.add(s.markOf("path"), s.path("path"), "must name a directory");
            path = "data";
        }
        Section r = s.section("redis");
        String uri = r.string("uri", "redis://127.0.0.1:6379");
        if (REDIS_SCHEMES.stream().noneMatch(uri::startsWith)) {
            problems.add(r.markOf("uri"), r.path("uri"), "must start with redis://, rediss:// or redis-sentinel://, got '"
                    + Secrets.maskUserInfo(uri) + "'");
        }
        String keyPrefix = r.string("key-prefix", "scopegate:");
        String passwordFile = r.nullableString("password-file");
        String password = null;
        if (passwordFile != null && Secrets.hasPassword(uri)) {
            problems.add(r.markOf("password-file"), r.path("password-file"),
                    "store.redis.uri already carries a password: give it in one place (drop it from the URI"
                            + " to read it from the file)");
        } else if (passwordFile != null) {
            password = secretFile(r, "password-file", passwordFile);
        }
        r.finish();
        s.finish();
        return new Store(type, path, new Redis(uri, keyPrefix, passwordFile, password));
    }

    private Cache cache(Section s) {
        Section r = s.section("registrations");
        Registrations registrations = new Registrations(
                r.longValue("max-size", 1_000_000L, 1, Long.MAX_VALUE),
                r.duration("expire-after-access", EXPIRE_AFTER_ACCESS, false));
        r.finish();
        Section u = s.section("unknown-clients");
        UnknownClients unknownClients = new UnknownClients(u.longValue("max-size", 10_000L, 0, Long.MAX_VALUE));
        u.finish();
        s.finish();
        return new Cache(registrations, unknownClients);
    }

    private Logging logging(Section s) {
        Logging l = new Logging(s.bool("access", true), s.bool("json", false));
        s.finish();
        return l;
    }

    // ---- value conversions: each reports its own error and returns null on failure -------------

    private static boolean isNull(YamlNode node) {
        return node instanceof Scalar s && s.kind() == Kind.NULL;
    }

    /** The scalar's text, interpolated if it is a string; null (reported) for a mapping or list. */
    private String text(YamlNode node, String path) {
        if (!(node instanceof Scalar s)) {
            problems.add(node.mark(), path, "expected a single value, got " + YamlNode.describe(node));
            return null;
        }
        if (s.kind() != Kind.STRING) {
            return s.text();
        }
        try {
            return interpolator.expand(s.text());
        } catch (IllegalArgumentException e) {
            problems.add(s.mark(), path, e.getMessage());
            return null;
        }
    }

    private BigInteger integer(YamlNode node, String path) {
        if (node instanceof Scalar s && s.kind() == Kind.INTEGER && s.integer() != null) {
            return s.integer();
        }
        if (node instanceof Scalar s && s.kind() == Kind.STRING) {
            String text = text(node, path);
            if (text == null) {
                return null;
            }
            try {
                return new BigInteger(text.trim());
            } catch (NumberFormatException e) {
                problems.add(node.mark(), path, "expected a whole number, got '" + text + "'");
                return null;
            }
        }
        problems.add(node.mark(), path, "expected a whole number, got " + describeValue(node));
        return null;
    }

    private Long boundedInteger(YamlNode node, String path, long min, long max) {
        BigInteger value = integer(node, path);
        if (value == null) {
            return null;
        }
        if (value.compareTo(BigInteger.valueOf(min)) < 0 || value.compareTo(BigInteger.valueOf(max)) > 0) {
            boolean open = max == Integer.MAX_VALUE || max == Long.MAX_VALUE;
            String rule = !open ? "must be between " + min + " and " + max
                    : value.compareTo(BigInteger.valueOf(min)) < 0 ? "must be at least " + min
                    : "must be at most " + max;
            problems.add(node.mark(), path, rule + ", got " + value);
            return null;
        }
        return value.longValue();
    }

    private Boolean bool(YamlNode node, String path) {
        if (node instanceof Scalar s && s.kind() == Kind.BOOLEAN) {
            return s.bool();
        }
        if (node instanceof Scalar s && s.kind() == Kind.STRING) {
            String text = text(node, path);
            if (text == null) {
                return null;
            }
            if (text.trim().equalsIgnoreCase("true")) {
                return true;
            }
            if (text.trim().equalsIgnoreCase("false")) {
                return false;
            }
            problems.add(node.mark(), path, "expected true or false, got '" + text + "'");
            return null;
        }
        problems.add(node.mark(), path, "expected true or false, got " + describeValue(node));
        return null;
    }

    private Duration duration(YamlNode node, String path, boolean allowZero) {
        Duration d;
        if (node instanceof Scalar s && s.kind() == Kind.INTEGER && s.integer() != null) {
            d = seconds(s.integer(), node, path);
        } else if (node instanceof Scalar s && s.kind() == Kind.STRING) {
            String text = text(node, path);
            if (text == null) {
                return null;
            }
            d = parseDuration(text.trim(), node, path);
        } else {
            problems.add(node.mark(), path, "expected a duration such as 500ms, 2s, 5m, 1h or 30d, got " + describeValue(node));
            return null;
        }
        if (d == null) {
            return null;
        }
        if (d.isNegative() || (!allowZero && d.isZero())) {
            problems.add(node.mark(), path, "must be " + (allowZero ? "zero or more" : "greater than zero") + ", got " + describeValue(node));
            return null;
        }
        return d;
    }

    private Duration seconds(BigInteger n, YamlNode node, String path) {
        if (n.bitLength() > 40) {
            problems.add(node.mark(), path, "duration " + n + "s is out of range");
            return null;
        }
        return Duration.ofSeconds(n.longValue());
    }

    private Duration parseDuration(String text, YamlNode node, String path) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            problems.add(node.mark(), path, "'" + text + "' is not a duration; write a number and a unit:"
                    + " 500ms, 2s, 5m, 1h, 30d (a bare number means seconds)");
            return null;
        }
        String digits = m.group(1);
        if (digits.length() > 12) {
            problems.add(node.mark(), path, "duration '" + text + "' is out of range");
            return null;
        }
        long n = Long.parseLong(digits);
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    private <E extends Enum<E>> E choice(YamlNode node, String path, Class<E> type) {
        String text = text(node, path);
        if (text == null) {
            return null;
        }
        for (E e : type.getEnumConstants()) {
            if (kebab(e).equals(text.trim())) {
                return e;
            }
        }
        problems.add(node.mark(), path, "'" + text + "' is not one of: " + choices(type));
        return null;
    }

    private static String kebab(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static <E extends Enum<E>> String choices(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(Binder::kebab).collect(Collectors.joining(", "));
    }

    /** An absolute http(s) URL with a host and neither credentials, query nor fragment. */
    private URI url(String text, YamlNode node, String path) {
        text = text.trim();
        if (text.isEmpty()) {
            problems.add(node.mark(), path, "must not be empty");
            return null;
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            problems.add(node.mark(), path, "'" + text + "' is not a valid URL: " + e.getReason());
            return null;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        String problem = null;
        if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https"))) {
            problem = "must be an absolute http:// or https:// URL";
        } else if (uri.getHost() == null || uri.getHost().isEmpty()) {
            problem = "must name a host (host names may use letters, digits, '-' and '.')";
        } else if (uri.getRawUserInfo() != null) {
            problem = "must not carry credentials (user:password@)";
        } else if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            problem = "must not have a query (?…) or fragment (#…)";
        }
        if (problem != null) {
            problems.add(node.mark(), path, problem + ", got '" + Secrets.maskUserInfo(text) + "'");
            return null;
        }
        return uri;
    }

    private static String describeValue(YamlNode node) {
        return node instanceof Scalar s ? "'" + s.text() + "'" : YamlNode.describe(node);
    }

    // ---- navigation ----------------------------------------------------------------------------

    /** One element of a list, with its path ({@code routes[1]}). */
    private final class Item {
        private final YamlNode node;
        private final String path;

        Item(YamlNode node, String path) {
            this.node = node;
            this.path = path;
        }

        YamlNode node() {
            return node;
        }

        String path() {
            return path;
        }

        /** The element as a section; null (reported) when it is not a mapping. */
        Section section() {
            if (node instanceof Mapping m) {
                return new Section(path, m, m.mark());
            }
            problems.add(node.mark(), path, "expected a mapping (key: value lines), got " + YamlNode.describe(node));
            return null;
        }
    }

    /**
     * A mapping being bound. Every key read is remembered; {@link #finish()} reports the rest as
     * unknown. An absent section ({@code map == null}) yields defaults and reports at its parent.
     */
    private final class Section {
        private final String path;
        private final Mapping map;
        private final Mark mark;
        private final Set<String> known = new LinkedHashSet<>();

        Section(String path, Mapping map, Mark mark) {
            this.path = path;
            this.map = map;
            this.mark = mark;
        }

        String path(String key) {
            return Problems.child(path, key);
        }

        /** The value under {@code key}, or null when absent or written as null. */
        YamlNode node(String key) {
            known.add(key);
            Entry e = map == null ? null : map.entries().get(key);
            return e == null || isNull(e.value()) ? null : e.value();
        }

        boolean has(String key) {
            return map != null && map.entries().containsKey(key);
        }

        /** Where to report a problem with {@code key}: its value, else this section. */
        Mark markOf(String key) {
            Entry e = map == null ? null : map.entries().get(key);
            return e == null ? mark : e.value().mark();
        }

        boolean required(String key) {
            if (node(key) == null) {
                problems.add(markOf(key), path(key), "is required");
                return false;
            }
            return true;
        }

        Section section(String key) {
            YamlNode n = node(key);
            if (n instanceof Mapping m) {
                return new Section(path(key), m, m.mark());
            }
            if (n != null) {
                problems.add(n.mark(), path(key), "expected a mapping (key: value lines), got " + YamlNode.describe(n));
            }
            return new Section(path(key), null, markOf(key));
        }

        List<Item> items(String key) {
            YamlNode n = node(key);
            if (n == null) {
                return List.of();
            }
            if (!(n instanceof Sequence seq)) {
                problems.add(n.mark(), path(key), "expected a list ([a, b] or '- item' lines), got " + YamlNode.describe(n));
                return List.of();
            }
            List<Item> out = new ArrayList<>();
            for (int i = 0; i < seq.items().size(); i++) {
                out.add(new Item(seq.items().get(i), Problems.index(path(key), i)));
            }
            return out;
        }

        String string(String key, String dflt) {
            YamlNode n = node(key);
            String value = n == null ? null : text(n, path(key));
            return value == null ? dflt : value;
        }

        /** A nullable string; an empty value (e.g. {@code ${VAR:-}}) also means unset. */
        String nullableString(String key) {
            String value = string(key, null);
            return value == null || value.isBlank() ? null : value;
        }

        String host(String key, String dflt) {
            String value = string(key, dflt).trim();
            if (value.isEmpty() || value.chars().anyMatch(Character::isWhitespace)) {
                problems.add(markOf(key), path(key), "must be a host name or IP address, got '" + value + "'");
                return dflt;
            }
            return value;
        }

        int port(String key, int dflt) {
            return integer(key, dflt, 0, 65535);
        }

        int integer(String key, int dflt, long min, long max) {
            return (int) longValue(key, dflt, min, max);
        }

        long longValue(String key, long dflt, long min, long max) {
            YamlNode n = node(key);
            Long value = n == null ? null : boundedInteger(n, path(key), min, max);
            return value == null ? dflt : value;
        }

        boolean bool(String key, boolean dflt) {
            YamlNode n = node(key);
            Boolean value = n == null ? null : Binder.this.bool(n, path(key));
            return value == null ? dflt : value;
        }

        Duration duration(String key, Duration dflt, boolean allowZero) {
            YamlNode n = node(key);
            Duration value = n == null ? null : Binder.this.duration(n, path(key), allowZero);
            return value == null ? dflt : value;
        }

        <E extends Enum<E>> E choice(String key, Class<E> type, E dflt) {
            YamlNode n = node(key);
            E value = n == null ? null : Binder.this.choice(n, path(key), type);
            return value == null ? dflt : value;
        }

        /** A URL; an empty value counts as unset only when there is no default (nullable keys). */
        URI url(String key, URI dflt) {
            YamlNode n = node(key);
            if (n == null) {
                return dflt;
            }
            String text = text(n, path(key));
            if (text == null) {
                return dflt;
            }
            if (dflt == null && text.isBlank()) {
                return null;
            }
            URI value = Binder.this.url(text, n, path(key));
            return value == null ? dflt : value;
        }

        /** A nullable path such as {@code /oauth/authorize}: starts with '/', no query or spaces. */
        String urlPath(String key) {
            String value = nullableString(key);
            if (value == null) {
                return null;
            }
            if (!value.startsWith("/") || value.chars().anyMatch(c -> c == '?' || c == '#' || Character.isWhitespace(c))) {
                problems.add(markOf(key), path(key), "must be a path starting with '/' (no query, fragment or spaces), got '"
                        + value + "'");
                return null;
            }
            return value;
        }

        /**
         * A list of scope tokens (no spaces). {@code dflt} is returned when the key is absent, so
         * a nullable list passes null. {@code globs} allows '*' (deny rules).
         */
        List<String> scopeTokens(String key, List<String> dflt, boolean globs) {
            if (node(key) == null) {
                return dflt;
            }
            List<String> out = new ArrayList<>();
            for (Item item : items(key)) {
                String token = text(item.node(), item.path());
                if (token == null) {
                    continue;
                }
                if (token.isBlank() || token.chars().anyMatch(Character::isWhitespace)) {
                    problems.add(item.node().mark(), item.path(), "'" + token + "' is not a single scope"
                            + " (write one scope per list item, without spaces)");
                } else if (!globs && token.indexOf('*') >= 0) {
                    problems.add(item.node().mark(), item.path(), "'" + token + "': wildcards are only allowed in scope.deny");
                } else {
                    out.add(token);
                }
            }
            return out;
        }

        void finish() {
            if (map == null) {
                return;
            }
            for (Entry e : map.entries().values()) {
                if (!known.contains(e.key())) {
                    problems.add(e.keyMark(), path(e.key()), "unknown key" + suggestion(e.key())
                            + " (expected one of: " + String.join(", ", known) + ")");
                }
            }
        }

        private String suggestion(String key) {
            String best = null;
            int bestDistance = 3;
            for (String candidate : known) {
                int d = distance(key.toLowerCase(Locale.ROOT).replace('_', '-'), candidate);
                if (d < bestDistance) {
                    best = candidate;
                    bestDistance = d;
                }
            }
            return best == null ? "" : "; did you mean '" + best + "'?";
        }
    }

    /** Levenshtein distance, for "did you mean" on typos such as connect_timeout or conect-timeout. */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
