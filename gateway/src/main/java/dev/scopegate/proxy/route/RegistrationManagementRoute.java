package dev.scopegate.proxy.route;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.ScopeMetrics;
import dev.scopegate.oauth.AuditLog;
import dev.scopegate.model.Registration;
import dev.scopegate.oauth.RegistrationDocuments;
import dev.scopegate.store.RegistrationRepository;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The client configuration endpoint (RFC 7592), {@code <registration endpoint>/<client_id>}: a
 * 2xx answer to {@code GET} or {@code PUT} updates the stored registration (merged into what is
 * known), a 2xx answer to {@code DELETE} removes it. The request itself is forwarded untouched.
 * Thread-safe; event loop.
 */
final class RegistrationManagementRoute implements Route {

    private final Supplier<ScopegateConfig> config;
    private final RegistrationRepository registrations;
    private final ScopeMetrics metrics;
    private final AuditLog audit;
    private final Clock clock;

    RegistrationManagementRoute(Supplier<ScopegateConfig> config, RegistrationRepository registrations,
                                ScopeMetrics metrics, AuditLog audit, Clock clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.registrations = Objects.requireNonNull(registrations, "registrations");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public Plan plan(HttpRequest request, String path) {
        String clientId = lastSegment(path);
        if (clientId == null) {
            return Plan.FORWARD;
        }
        HttpMethod method = request.method();
        boolean delete = method.equals(HttpMethod.DELETE);
        if (!delete && !method.equals(HttpMethod.GET) && !method.equals(HttpMethod.PUT)) {
            return Plan.FORWARD;
        }
        return new Plan.Forward(new Tap(clientId, delete, config.get().limits().maxCaptureBytes()));
    }

    /** The decoded last path segment (the client_id), or null when there is none or it does not decode. */
    static /* nullable */ String lastSegment(String path) {
        int slash = path.lastIndexOf('/');
        if (slash < 0 || slash == path.length() - 1) {
            return null;
        }
        try {
            return URLDecoder.decode(path.substring(slash + 1).replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Applies the IdP's 2xx answer about {@code clientId} to the store. */
    private final class Tap implements ResponseTap {
        private final String clientId;
        private final boolean delete;
        private final int cap;

        Tap(String clientId, boolean delete, int cap) {
            this.clientId = clientId;
            this.delete = delete;
            this.cap = cap;
        }

        @Override
        public int onHead(HttpResponse head) {
            int code = head.status().code();
            if (code < 200 || code >= 300) {
                return 0;
            }
            return delete || Http.isJson(head) ? cap : 0;
        }

        @Override
        public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
            if (delete) {
                return registrations.remove(clientId).thenAccept(existed -> {
                    metrics.registration("deleted");
                    audit.registration("deleted", clientId);
                });
            }
            Optional<Registration> reg = RegistrationDocuments.fromDcrResponse(ByteBufUtil.getBytes(body), null,
                    clock.instant());
            if (reg.isEmpty() || !reg.get().clientId().equals(clientId)) {
                metrics.registration("rejected");
                return CompletableFuture.completedFuture(null);
            }
            return registrations.find(clientId).thenCompose(old ->
                    registrations.save(reg.get().mergedInto(old.orElse(null)))).thenRun(() -> {
                metrics.registration("updated");
                audit.registration("updated", clientId);
            });
        }
    }
}
