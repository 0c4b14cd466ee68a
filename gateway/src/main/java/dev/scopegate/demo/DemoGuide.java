package dev.scopegate.demo;

import java.nio.file.Path;

/**
 * What {@code scopegate.jar demo} writes and prints: the gateway's config in front of the
 * {@link DemoIdp}, and the commands a newcomer pastes to see a rewrite. Pure text; stateless.
 */
public final class DemoGuide {

    /** The demo's client registers this redirect URI, as ChatGPT's connector does. */
    public static final String REDIRECT_URI = "https://chatgpt.com/connector_platform_oauth_redirect";
    public static final String SCOPE = "files:read files:write";
    /** The first client the demo IdP issues: the one the printed commands register. */
    public static final String CLIENT_ID = DemoIdp.CLIENT_ID_PREFIX + "1";
    public static final String STATE = "demo-state-42";
    /** RFC 7636 appendix B: the challenge of the verifier {@code dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk}. */
    public static final String CODE_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    /** The three loopback ports of a demo. */
    public record Ports(int proxy, int admin, int idp) {
    }

    private DemoGuide() {
    }

    /** The gateway's config: loopback listeners, the demo IdP upstream, the embedded store under {@code dir}. */
    public static String config(Ports ports, Path dir) {
        String store = dir.resolve("data").toAbsolutePath().toString().replace("\\", "/").replace("\"", "\\\"");
        return """
                # Written by `scopegate.jar demo`: scopegate in front of the demo IdP, deleted on exit.
                # Edits are applied at once (hot reload), like in production.
                listen: {host: 127.0.0.1, port: %d, drain-timeout: 0s}
                admin: {host: 127.0.0.1, port: %d}
                upstream: {url: "http://127.0.0.1:%d"}
                store: {type: embedded, path: "%s"}
                scope:
                  families:
                    - {name: chatgpt, redirect-hosts: [chatgpt.com]}
                """.formatted(ports.proxy(), ports.admin(), ports.idp(), store);
    }

    /** The authorization request of a reconnect (no {@code scope}), as a query string. */
    public static String reconnectQuery() {
        return "response_type=code&client_id=" + CLIENT_ID
                + "&redirect_uri=https%3A%2F%2Fchatgpt.com%2Fconnector_platform_oauth_redirect"
                + "&state=" + STATE + "&code_challenge=" + CODE_CHALLENGE + "&code_challenge_method=S256";
    }

    /** What the demo prints once everything listens. Every line starting with {@code curl} can be pasted as is. */
    public static String instructions(Ports ports, Path dir) {
        String proxy = "http://127.0.0.1:" + ports.proxy();
        String admin = "http://127.0.0.1:" + ports.admin();
        String idp = "http://127.0.0.1:" + ports.idp();
        String register = "{\"client_name\":\"demo connector\",\"redirect_uris\":[\"" + REDIRECT_URI + "\"],"
                + "\"scope\":\"" + SCOPE + "\"}";
        return """

                scopegate demo: a legacy IdP that refuses authorization requests without scope, and scopegate in front of it.

                  demo IdP    %3$s   refuses /oauth/authorize without scope (400 invalid_scope)
                  scopegate   %1$s   the proxy clients talk to
                  admin       %2$s   /metrics /healthz /readyz /admin/explain
                  files       %4$s   (config and store; deleted on exit)

                Paste these in another terminal, in order.

                1. Register a client through scopegate (Dynamic Client Registration, as ChatGPT does when it
                   first connects). scopegate relays it to the IdP and keeps the scope from the IdP's answer.
                   The IdP numbers its clients: the first is %5$s, used below.

                curl -s -H 'Content-Type: application/json' -d '%6$s' %1$s/oauth/register

                2. Reconnect without scope (what ChatGPT sends after Disconnect/Connect). Straight to the IdP it is
                   refused: HTTP 400, "invalid_scope".

                curl -si '%3$s/oauth/authorize?%7$s'

                   The same request through scopegate is accepted: HTTP 302, and the Location carries the code.
                   The IdP shows what it received: %8$s is the scope scopegate added ("%9$s"),
                   %10$s the query as it arrived (yours byte for byte, then &scope=... appended).

                curl -si '%1$s/oauth/authorize?%7$s'

                3. Why that scope: the resolution chain for the client, on the admin port ("registered" wins).

                curl -s '%2$s/admin/explain?client_id=%5$s'

                Access and audit lines of each request follow below. Ctrl-C stops the demo.
                """.formatted(proxy, admin, idp, dir, CLIENT_ID, register, reconnectQuery(),
                DemoIdp.SCOPE_HEADER, SCOPE, DemoIdp.QUERY_HEADER);
    }
}
