package dev.scopegate.proxy;

import dev.scopegate.config.Cidr;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.proxy.route.Plan;
import dev.scopegate.proxy.route.ResourceChallenges;
import dev.scopegate.proxy.upstream.Origin;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;

/**
 * What the frontend needs of the configuration, derived once per (re)load so that no request
 * parses a URL or a CIDR. Immutable.
 */
public record ProxySettings(
        Target idp,
        List<Target> routes,
        long responseTimeoutMillis,
        List<Cidr> trustedProxies,
        /* nullable */ String publicProto,
        /* nullable */ String publicHost,
        boolean tlsListener,
        boolean accessLog) {

    /**
     * Where a request goes. {@code extra} marks an entry of {@code routes} (not the IdP).
     * {@code readTimeoutMillis}: the longest silence of this upstream between two reads of a
     * response once its head arrived (0: none), the route's own or inherited.
     */
    public record Target(String prefix, Origin origin, boolean rewriteHost, boolean extra, long readTimeoutMillis,
                         /* nullable */ ResourceChallenges challenges) {

        public Target(String prefix, Origin origin, boolean rewriteHost, boolean extra, long readTimeoutMillis) {
            this(prefix, origin, rewriteHost, extra, readTimeoutMillis, null);
        }

        /**
         * The plan of a request to this extra route: forwarded as it is, with the challenge
         * completion of the resource it addresses ({@code resources[].challenge}) when there is one.
         */
        Plan plan(String path) {
            return challenges == null ? Plan.FORWARD : challenges.planFor(path);
        }

        boolean matches(String path) {
            if (!path.startsWith(prefix)) {
                return false;
            }
            return path.length() == prefix.length() || prefix.endsWith("/") || path.charAt(prefix.length()) == '/';
        }
    }

    public static ProxySettings from(ScopegateConfig config) {
        long readTimeout = config.upstream().readTimeout().toMillis();
        Target idp = new Target("/", Origin.of(config.upstream().url()), config.upstream().rewriteHost(), false,
                readTimeout);
        List<Target> routes = config.routes().stream()
                .map(r -> new Target(r.prefix(), Origin.of(r.url()), r.rewriteHost(), true,
                        r.readTimeout() != null ? r.readTimeout().toMillis() : readTimeout,
                        ResourceChallenges.forRoute(r.prefix(), config.resources(), config.publicBaseUrl())))
                .toList();
        URI pub = config.publicBaseUrl();
        String proto = pub == null ? null : pub.getScheme();
        String host = pub == null ? null : Origin.of(pub).authority();
        return new ProxySettings(idp, routes, config.upstream().responseTimeout().toMillis(),
                config.trustedProxies(), proto, host, config.listen().tls().enabled(), config.logging().access());
    }

    /** The target for a request path: the longest matching extra route, else the IdP. */
    public Target select(String path) {
        Target best = null;
        for (int i = 0; i < routes.size(); i++) {
            Target t = routes.get(i);
            if (t.matches(path) && (best == null || t.prefix().length() > best.prefix().length())) {
                best = t;
            }
        }
        return best != null ? best : idp;
    }

    /** The shortest read timeout of any target, or 0 when none has one. */
    long shortestReadTimeoutMillis() {
        long shortest = idp.readTimeoutMillis();
        for (int i = 0; i < routes.size(); i++) {
            long t = routes.get(i).readTimeoutMillis();
            if (t > 0 && (shortest == 0 || t < shortest)) {
                shortest = t;
            }
        }
        return shortest;
    }

    boolean trusted(InetAddress address) {
        for (int i = 0; i < trustedProxies.size(); i++) {
            if (trustedProxies.get(i).contains(address)) {
                return true;
            }
        }
        return false;
    }
}
