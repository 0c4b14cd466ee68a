package dev.scopegate.proxy.route;

import dev.scopegate.metrics.MeterNames;
import dev.scopegate.model.Registration;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static dev.scopegate.proxy.route.RouteFixture.bytes;
import static dev.scopegate.proxy.route.RouteFixture.request;
import static dev.scopegate.proxy.route.RouteFixture.response;
import static org.assertj.core.api.Assertions.assertThat;

/** {@link RegistrationRoute} (RFC 7591) and {@link RegistrationManagementRoute} (RFC 7592). */
class RegistrationRoutesTest {

    static final String REQUEST = "{\"redirect_uris\":[\"https://app.example/cb\"],\"scope\":\"read write\"}";
    static final String ANSWER = "{\"client_id\":\"c1\",\"client_secret\":\"s\",\"redirect_uris\":[\"https://app.example/cb\"]}";
    static final String REGISTERED = "registrations";

    final RouteFixture f = new RouteFixture("limits: {max-capture-bytes: 4096}\n");

    RegistrationRoute registration() {
        return new RegistrationRoute(f.config::get, f.registrations, f.metrics, f.audit, f.clock, null);
    }

    RegistrationManagementRoute management() {
        return new RegistrationManagementRoute(f.config::get, f.registrations, f.metrics, f.audit, f.clock);
    }

    static void body(ResponseTap tap, HttpResponse head, String body) {
        ByteBuf b = bytes(body);
        try {
            tap.onBody(head, b).toCompletableFuture().join();
        } finally {
            b.release();
        }
    }

    double events(String event) {
        return f.count(MeterNames.REGISTRATIONS, "event", event);
    }

    @Test
    void aRegistrationIsStoredFromTheRequestAndTheIdPsAnswer() {
        Plan.BufferBody plan = (Plan.BufferBody) registration().plan(request(HttpMethod.POST, "/r"), "/r");
        assertThat(plan.maxBytes()).isEqualTo(4096);
        ByteBuf req = bytes(REQUEST);
        assertThat(plan.rewriter().onBody(null, req).toCompletableFuture().join()).isSameAs(BodyRewriter.UNCHANGED);
        req.release();
        HttpResponse head = response(201, "application/json");
        assertThat(plan.tap().onHead(head)).isEqualTo(4096);
        body(plan.tap(), head, ANSWER);

        Registration stored = f.stored.get("c1");
        assertThat(stored).isNotNull();
        assertThat(stored.scope()).isEqualTo("read write"); // from the request: the answer has none
        assertThat(stored.redirectUris()).containsExactly("https://app.example/cb");
        assertThat(events("captured")).isEqualTo(1);
    }

    @Test
    void onlyA2xxJsonAnswerIsCaptured() {
        ResponseTap tap = ((Plan.BufferBody) registration().plan(request(HttpMethod.POST, "/r"), "/r")).tap();
        assertThat(tap.onHead(response(400, "application/json"))).isZero();
        assertThat(tap.onHead(response(201, "text/html"))).isZero();
        assertThat(tap.onHead(response(201, "application/vnd.x+json"))).isEqualTo(4096);
    }

    @Test
    void anAnswerWithoutClientIdOrOverTheCapIsNotStored() {
        ResponseTap tap = ((Plan.BufferBody) registration().plan(request(HttpMethod.POST, "/r"), "/r")).tap();
        body(tap, response(201, "application/json"), "{\"client_secret\":\"s\"}");
        tap.onOverCap(response(201, "application/json"));
        assertThat(f.stored).isEmpty();
        assertThat(events("rejected")).isEqualTo(2);
    }

    @Test
    void otherMethodsAreForwarded() {
        assertThat(registration().plan(request(HttpMethod.GET, "/r"), "/r")).isSameAs(Plan.FORWARD);
    }

    @Test
    void managementDeleteRemovesTheRegistration() {
        f.registrations.save(reg("c 1")).join();
        Plan.Forward plan = (Plan.Forward) management().plan(request(HttpMethod.DELETE, "/r/c%201"), "/r/c%201");
        HttpResponse head = response(204, null);
        assertThat(plan.tap().onHead(head)).isEqualTo(4096);
        body(plan.tap(), head, "");
        assertThat(f.stored).doesNotContainKey("c 1");
        assertThat(events("deleted")).isEqualTo(1);
    }

    @Test
    void managementReadOrUpdateMergesTheAnswer() {
        f.registrations.save(reg("c1")).join();
        Plan.Forward plan = (Plan.Forward) management().plan(request(HttpMethod.PUT, "/r/c1"), "/r/c1");
        HttpResponse head = response(200, "application/json");
        assertThat(plan.tap().onHead(head)).isEqualTo(4096);
        body(plan.tap(), head, "{\"client_id\":\"c1\",\"redirect_uris\":[\"https://new.example/cb\"]}");
        assertThat(f.stored.get("c1").redirectUris()).containsExactly("https://new.example/cb");
        assertThat(events("updated")).isEqualTo(1);
    }

    @Test
    void managementIgnoresAnotherClientsAnswerAndFailures() {
        f.registrations.save(reg("c1")).join();
        Plan.Forward plan = (Plan.Forward) management().plan(request(HttpMethod.GET, "/r/c1"), "/r/c1");
        assertThat(plan.tap().onHead(response(404, "application/json"))).isZero();
        assertThat(plan.tap().onHead(response(200, "text/plain"))).isZero();
        body(plan.tap(), response(200, "application/json"), "{\"client_id\":\"c2\"}");
        assertThat(f.stored.get("c1").redirectUris()).containsExactly("https://app.example/cb");
        assertThat(events("rejected")).isEqualTo(1);
    }

    @Test
    void managementForwardsOtherMethodsAndPathsWithoutClientId() {
        assertThat(management().plan(request(HttpMethod.POST, "/r/c1"), "/r/c1")).isSameAs(Plan.FORWARD);
        assertThat(management().plan(request(HttpMethod.GET, "/r/"), "/r/")).isSameAs(Plan.FORWARD);
        assertThat(management().plan(request(HttpMethod.GET, "/r/%zz"), "/r/%zz")).isSameAs(Plan.FORWARD);
        assertThat(RegistrationManagementRoute.lastSegment("/r/a+b")).isEqualTo("a+b");
    }

    static Registration reg(String clientId) {
        Instant now = Instant.parse("2025-11-18T10:00:00Z");
        return new Registration(clientId, "read", List.of("https://app.example/cb"), List.of("authorization_code"),
                "App", null, null, now, now);
    }
}
