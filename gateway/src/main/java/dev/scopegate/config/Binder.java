package dev.scopegate.config;

import dev.scopegate.config.RecordBinder.Item;
import dev.scopegate.config.RecordBinder.Section;
import dev.scopegate.config.ScopegateConfig.Admin;
import dev.scopegate.config.ScopegateConfig.Family;
import dev.scopegate.config.ScopegateConfig.Listen;
import dev.scopegate.config.ScopegateConfig.Redis;
import dev.scopegate.config.ScopegateConfig.Route;
import dev.scopegate.config.ScopegateConfig.Scope;
import dev.scopegate.config.ScopegateConfig.Source;
import dev.scopegate.config.ScopegateConfig.Store;
import dev.scopegate.config.ScopegateConfig.Tls;
import dev.scopegate.config.ScopegateConfig.Upstream;
import dev.scopegate.config.ScopegateConfig.UpstreamTls;
import dev.scopegate.config.YamlNode.Entry;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Binds a {@link YamlNode} tree onto {@link ScopegateConfig}: the generic {@link RecordBinder} does
 * every per-value check from the records' annotations (types, defaults, ranges, text rules,
 * unknown keys); this class adds the checks that span keys or read files, as one hook per record
 * type, run right after that record is bound. Each reports to {@link Problems} at the position of
 * the key it names. Not thread-safe: one per load.
 */
final class Binder implements RecordBinder.Hook {

    private static final List<String> REDIS_SCHEMES = List.of("redis://", "rediss://", "redis-sentinel://");

    private final Interpolator interpolator;
    private final Problems problems;

    Binder(Interpolator interpolator, Problems problems) {
        this.interpolator = interpolator;
        this.problems = problems;
    }

    /** @param root the document's root, or null for an empty document */
    ScopegateConfig bind(YamlNode root) {
        return new RecordBinder(interpolator, problems, this).bind(root, ScopegateConfig.class);
    }

    @Override
    public Object check(Object record, Section s) {
        if (record instanceof Tls tls) {
            keyPair(s, tls.cert(), tls.key(), "set both tls.cert and tls.key for TLS, or neither for plain HTTP");
        } else if (record instanceof UpstreamTls tls) {
            if (tls.ca() != null) {
                pem(s, "ca", tls.ca(), PemFiles::certificates);
            }
            keyPair(s, tls.cert(), tls.key(), "set both tls.cert and tls.key for a client certificate (mTLS), or neither");
        } else if (record instanceof Upstream u && u.tls().configured() && !"https".equalsIgnoreCase(u.url().getScheme())) {
            Section t = s.child("tls");
            problems.add(t.mark, t.path, "applies to an https IdP, but upstream.url is " + u.url()
                    + ": write https://, or remove upstream.tls");
        } else if (record instanceof Admin a) {
            return admin(a, s);
        } else if (record instanceof Store st && st.path().isBlank()) {
            s.report("path", "must name a directory");
            return new Store(st.type(), "data", st.redis());
        } else if (record instanceof Redis r) {
            return redis(r, s);
        } else if (record instanceof Family) {
            List<Item> hosts = s.items("redirect-hosts");
            if (hosts != null && hosts.isEmpty()) {
                s.report("redirect-hosts", "must list at least one host");
            }
        } else if (record instanceof Scope) {
            scope(s);
        } else if (record instanceof ScopegateConfig c) {
            top(c, s);
        }
        return record;
    }

    // ---- TLS files -------------------------------------------------------------------------------

    /** {@code cert} and {@code key} both or neither; when both, a chain and the private key of its first certificate. */
    private void keyPair(Section s, String cert, String key, String bothOrNeither) {
        if ((cert == null) != (key == null)) {
            problems.add(s.mark, s.path(cert == null ? "cert" : "key"), bothOrNeither);
            return;
        }
        if (cert == null) {
            return;
        }
        List<X509Certificate> chain = pem(s, "cert", cert, PemFiles::certificates);
        PrivateKey privateKey = pem(s, "key", key, PemFiles::privateKey);
        if (chain != null && privateKey != null) {
            try {
                PemFiles.checkPair(privateKey, chain.get(0));
            } catch (PemFiles.PemException e) {
                s.report("key", "'" + key + "': " + e.getMessage() + " in " + s.path("cert") + " '" + cert + "'");
            }
        }
    }

    private interface PemReader<T> {
        T read(byte[] pem) throws PemFiles.PemException;
    }

    /** The content of PEM file {@code file} under {@code key}, or null (reported) when unreadable or invalid. */
    private <T> T pem(Section s, String key, String file, PemReader<T> reader) {
        boolean readable;
        try {
            Path p = Path.of(file);
            readable = Files.isRegularFile(p) && Files.isReadable(p);
        } catch (InvalidPathException e) {
            readable = false;
        }
        if (!readable) {
            s.report(key, "'" + file + "' is not a readable file (relative paths are resolved against the working directory)");
            return null;
        }
        try {
            return reader.read(Files.readAllBytes(Path.of(file)));
        } catch (IOException e) {
            s.report(key, "'" + file + "' cannot be read: " + e.getMessage());
        } catch (PemFiles.PemException e) {
            s.report(key, "'" + file + "' " + e.getMessage());
        }
        return null;
    }

    // ---- secrets ---------------------------------------------------------------------------------

    private Admin admin(Admin a, Section s) {
        if (a.tokenFile() != null && !a.token().isEmpty()) {
            s.report("token-file", "set admin.token or admin.token-file, not both (admin.token is not empty)");
        } else if (a.tokenFile() != null) {
            String fromFile = secretFile(s, "token-file", a.tokenFile());
            return new Admin(a.host(), a.port(), fromFile == null ? "" : fromFile, a.tokenFile());
        }
        return a;
    }

    private Redis redis(Redis r, Section s) {
        if (REDIS_SCHEMES.stream().noneMatch(r.uri()::startsWith)) {
            s.report("uri", "must start with redis://, rediss:// or redis-sentinel://, got '" + Secrets.maskUserInfo(r.uri()) + "'");
        }
        if (r.passwordFile() != null && Secrets.hasPassword(r.uri())) {
            s.report("password-file", "store.redis.uri already carries a password: give it in one place (drop it from the URI"
                    + " to read it from the file)");
        } else if (r.passwordFile() != null) {
            return new Redis(r.uri(), r.keyPrefix(), r.passwordFile(), secretFile(s, "password-file", r.passwordFile()));
        }
        return r;
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
        s.report(key, "'" + file + "' " + why + " (relative paths are resolved against the working directory)");
        return null;
    }

    // ---- scope -----------------------------------------------------------------------------------

    private void scope(Section s) {
        List<Item> sources = s.items("sources");
        if (sources != null && sources.isEmpty()) {
            s.report("sources", "must name at least one source (" + Values.choices(Source.class) + ")");
        }
        if (sources != null) {
            List<Object> seen = new ArrayList<>();
            for (Item item : sources) {
                if (item.value() != null && seen.contains(item.value())) {
                    problems.add(item.node().mark(), item.path(), "'" + Values.kebab((Source) item.value()) + "' is listed twice");
                }
                seen.add(item.value());
            }
        }
        Section clients = s.child("clients");
        if (clients.map != null) {
            for (Entry e : clients.map.entries().values()) {
                if (e.key().isBlank()) {
                    problems.add(e.keyMark(), clients.path(e.key()), "a client_id key must not be empty");
                } else if (RecordBinder.isNull(e.value())) {
                    problems.add(e.value().mark(), clients.path(e.key()), "give the scope for client '" + e.key() + "'");
                }
            }
        }
        unique(s.items("families"), "name", f -> ((Family) f).name(), "family '%s' is already defined by %s");
    }

    /** Reports an element of {@code items} whose {@code key} repeats an earlier one's. */
    private void unique(List<Item> items, String key, Function<Object, String> value, String format) {
        Map<String, String> seen = new HashMap<>();
        for (Item item : items == null ? List.<Item>of() : items) {
            if (item.value() != null) {
                String first = seen.putIfAbsent(value.apply(item.value()), item.path());
                if (first != null) {
                    item.section().report(key, String.format(format, value.apply(item.value()), first));
                }
            }
        }
    }

    // ---- across sections -------------------------------------------------------------------------

    private void top(ScopegateConfig c, Section s) {
        Listen listen = c.listen();
        Admin admin = c.admin();
        Section ls = s.child("listen");
        Section as = s.child("admin");
        if (listen.port() != 0 && listen.port() == admin.port() && overlap(listen.host(), admin.host())) {
            // Point at whichever port the operator actually wrote.
            if (as.has("port") || !ls.has("port")) {
                as.report("port", "the admin listener cannot share port " + admin.port() + " with the proxy listener (listen.port)");
            } else {
                ls.report("port", "the proxy listener cannot share port " + listen.port() + " with the admin listener (admin.port)");
            }
        }
        int port = c.health().port();
        Section hs = s.child("health");
        if (port != 0 && port == listen.port() && overlap(c.health().host(), listen.host())) {
            hs.report("port", "the health listener cannot share port " + port + " with the proxy listener (listen.port)");
        } else if (port != 0 && port == admin.port() && overlap(c.health().host(), admin.host())) {
            hs.report("port", "the health listener cannot share port " + port + " with the admin listener (admin.port)");
        }
        unique(s.items("routes"), "prefix", r -> ((Route) r).prefix(), "prefix '%s' is already routed by %s");
        if (c.metadata().augment().rewriteOrigin() && c.publicBaseUrl() == null) {
            s.child("metadata").child("augment").report("rewrite-origin",
                    "needs public-base-url: it is the origin endpoint URLs are rewritten to");
        }
    }

    private static boolean overlap(String a, String b) {
        return a.equals(b) || isWildcard(a) || isWildcard(b);
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }
}
