package dev.scopegate.proxy.route;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.ScopeMetrics;
import dev.scopegate.oauth.AuditLog;
import dev.scopegate.oauth.RegistrationRequests;
import dev.scopegate.oauth.metadata.ServerMetadata;
import dev.scopegate.oauth.scope.ClientFamilies;
import dev.scopegate.oauth.scope.RegistrationScopes;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;

import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code scope.fill-registration} for {@link RegistrationRoute}: a JSON registration request
 * without scope ({@link RegistrationRequests}: absent, null or blank) gets the scope
 * {@link RegistrationScopes} resolves for it, spliced into the bytes as they came; counted and
 * audit-logged. In {@code scope.dry-run} it is decided and logged but not added. Thread-safe; event loop.
 */
final class RegistrationScopeFill {

    private final Supplier<ScopegateConfig> config;
    /** The metadata of the issuer whose registration endpoint a request target is (nullable answer). */
    private final Function<String, ServerMetadata> metadata;
    private final Supplier<ClientFamilies> families;
    private final ScopeMetrics metrics;
    private final AuditLog audit;
    /** The resolver of the last config seen (built again after a reload). */
    private volatile Built built;

    private record Built(ScopegateConfig config, RegistrationScopes scopes) {}

    RegistrationScopeFill(Supplier<ScopegateConfig> config, Function<String, ServerMetadata> metadata,
                          Supplier<ClientFamilies> families, ScopeMetrics metrics, AuditLog audit) {
        this.config = Objects.requireNonNull(config, "config");
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.families = Objects.requireNonNull(families, "families");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.audit = Objects.requireNonNull(audit, "audit");
    }

    /** The body to forward instead of {@code body}, or null to forward it unchanged. */
    /* nullable */ byte[] apply(HttpRequest head, byte[] body) {
        ScopegateConfig c = config.get();
        if (!c.scope().fillRegistration() || !isJson(head)) {
            return null;
        }
        RegistrationRequests.Shape shape = RegistrationRequests.read(body);
        if (shape == null || !shape.missing()) {
            return null;
        }
        ServerMetadata m = metadata.apply(head.uri());
        RegistrationScopes.Filled filled = scopes(c).resolve(shape.redirectUris(), m == null ? null : m.scopesSupported());
        if (filled == null) {
            return null;
        }
        String family = families.get().familyOf(shape.redirectUris().isEmpty() ? null : shape.redirectUris().get(0));
        String source = filled.source().name().toLowerCase(Locale.ROOT);
        boolean dryRun = c.scope().dryRun();
        audit.registrationScope(family, source, filled.scope(), dryRun);
        if (dryRun) {
            return null;
        }
        metrics.registrationScopeFilled(source, family);
        return RegistrationRequests.withScope(body, shape, filled.scope());
    }

    private RegistrationScopes scopes(ScopegateConfig c) {
        Built b = built;
        if (b == null || b.config() != c) {
            b = new Built(c, new RegistrationScopes(c.scope(), c.resources()));
            built = b;
        }
        return b.scopes();
    }

    private static boolean isJson(HttpRequest head) {
        String type = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
        if (type == null) {
            return false;
        }
        String t = type.toLowerCase(Locale.ROOT);
        return t.startsWith("application/json") || (t.startsWith("application/") && t.contains("+json"));
    }
}
