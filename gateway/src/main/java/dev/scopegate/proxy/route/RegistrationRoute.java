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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The registration endpoint (RFC 7591): a {@code POST}'s body is kept, and the IdP's 2xx JSON
 * answer (up to {@code limits.max-capture-bytes}) is stored as the client's {@link Registration}
 * before it is relayed — a 201 that reached the client is a stored registration, or the client
 * gets a 502. With {@code scope.fill-registration}, a request without scope first gets one
 * ({@link RegistrationScopeFill}). Anything else is forwarded untouched. Thread-safe; event loop.
 */
final class RegistrationRoute implements Route {

    private static final Logger log = LoggerFactory.getLogger(RegistrationRoute.class);

    private final Supplier<ScopegateConfig> config;
    private final RegistrationRepository registrations;
    private final ScopeMetrics metrics;
    private final AuditLog audit;
    private final Clock clock;
    /** {@code scope.fill-registration}; null: never. */
    private final /* nullable */ RegistrationScopeFill fill;

    RegistrationRoute(Supplier<ScopegateConfig> config, RegistrationRepository registrations, ScopeMetrics metrics,
                      AuditLog audit, Clock clock, /* nullable */ RegistrationScopeFill fill) {
        this.fill = fill;
        this.config = Objects.requireNonNull(config, "config");
        this.registrations = Objects.requireNonNull(registrations, "registrations");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public Plan plan(HttpRequest request, String path) {
        if (!request.method().equals(HttpMethod.POST)) {
            return Plan.FORWARD;
        }
        Capture capture = new Capture(config.get().limits().maxCaptureBytes());
        return new Plan.BufferBody(capture.cap, capture, capture);
    }

    /** One registration: keeps the request body, then stores what the IdP answered. */
    private final class Capture implements BodyRewriter, ResponseTap {
        final int cap;
        /** The client's metadata as sent; set on the event loop before the response arrives. */
        private byte[] requestBody;

        Capture(int cap) {
            this.cap = cap;
        }

        @Override
        public CompletionStage<Result> onBody(HttpRequest head, ByteBuf body) {
            requestBody = ByteBufUtil.getBytes(body);
            byte[] filled = fill == null ? null : fill.apply(head, requestBody);
            if (filled == null) {
                return CompletableFuture.completedFuture(BodyRewriter.UNCHANGED);
            }
            requestBody = filled; // what the IdP got: the registration falls back on its scope
            return CompletableFuture.completedFuture(new BodyRewriter.Result.Replace(filled));
        }

        @Override
        public int onHead(HttpResponse head) {
            int code = head.status().code();
            return code >= 200 && code < 300 && Http.isJson(head) ? cap : 0;
        }

        @Override
        public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
            Optional<Registration> reg = RegistrationDocuments.fromDcrResponse(ByteBufUtil.getBytes(body),
                    requestBody, clock.instant());
            if (reg.isEmpty()) {
                metrics.registration("rejected");
                log.info("registration response without a usable client_id: not stored");
                return CompletableFuture.completedFuture(null);
            }
            return registrations.save(reg.get()).whenComplete((v, e) -> {
                if (e != null) {
                    metrics.registration("failed");
                } else {
                    metrics.registration("captured");
                    audit.registration("captured", reg.get().clientId());
                }
            });
        }

        @Override
        public void onOverCap(HttpResponse head) {
            metrics.registration("rejected");
            log.warn("registration response over limits.max-capture-bytes ({}): relayed, not stored", cap);
        }
    }
}
