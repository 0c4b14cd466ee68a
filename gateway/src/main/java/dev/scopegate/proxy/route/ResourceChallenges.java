package dev.scopegate.proxy.route;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.oauth.document.ResourceMetadataCache;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * For one {@code routes} entry: the resources of {@code resources:} with {@code challenge: true}
 * that concern it (the resource's path lies under the route's prefix, or the prefix under the
 * resource's path), each with the {@link Plan} that completes its challenges. A request on the
 * route takes the resource with the longest path that is a segment prefix of its own path (the
 * same rule as route prefixes); a path under none is forwarded untouched. Built once per config;
 * routes no such resource concerns get none ({@link #forRoute} answers null), so their requests
 * pay nothing. Immutable; thread-safe.
 */
public final class ResourceChallenges {

    private final String[] paths;
    private final Plan.Forward[] plans;

    private ResourceChallenges(String[] paths, Plan.Forward[] plans) {
        this.paths = paths;
        this.plans = plans;
    }

    /**
     * The challenge plans for the route at {@code prefix}, or null when no resource with
     * {@code challenge: true} concerns it. Where several such resources share a path, the one on
     * {@code publicBaseUrl}'s origin wins (as for the document scopegate serves at that path), else
     * the first listed.
     */
    public static /* nullable */ ResourceChallenges forRoute(String prefix, List<ScopegateConfig.Resource> resources,
                                                            /* nullable */ URI publicBaseUrl) {
        Objects.requireNonNull(prefix, "prefix");
        String preferred = publicBaseUrl == null ? null : origin(publicBaseUrl);
        Map<String, ScopegateConfig.Resource> byPath = new LinkedHashMap<>();
        for (ScopegateConfig.Resource r : resources) {
            if (!r.challenge()) {
                continue;
            }
            String path = pathOf(r.resource());
            if (!under(path, prefix) && !under(prefix, path)) {
                continue;
            }
            ScopegateConfig.Resource held = byPath.get(path);
            if (held == null || (preferred != null && !preferred.equals(origin(held.resource()))
                    && preferred.equals(origin(r.resource())))) {
                byPath.put(path, r);
            }
        }
        if (byPath.isEmpty()) {
            return null;
        }
        List<String> paths = new ArrayList<>(byPath.keySet());
        String[] p = paths.toArray(String[]::new);
        Plan.Forward[] plans = new Plan.Forward[p.length];
        for (int i = 0; i < p.length; i++) {
            ScopegateConfig.Resource r = byPath.get(p[i]);
            plans[i] = new Plan.Forward(new ChallengeTap(ResourceMetadataCache.metadataUrl(r.resource()).toString(),
                    String.join(" ", r.scopesSupported())));
        }
        return new ResourceChallenges(p, plans);
    }

    /** The plan for a request at {@code path} (raw, without query) on this route. */
    public Plan planFor(String path) {
        int best = -1;
        for (int i = 0; i < paths.length; i++) {
            if (under(path, paths[i]) && (best < 0 || paths[i].length() > paths[best].length())) {
                best = i;
            }
        }
        return best < 0 ? Plan.FORWARD : plans[best];
    }

    /** {@code path} equals {@code base} or lies below it, segment-wise. */
    static boolean under(String path, String base) {
        if (!path.startsWith(base)) {
            return false;
        }
        return path.length() == base.length() || base.endsWith("/") || path.charAt(base.length()) == '/';
    }

    private static String pathOf(URI resource) {
        String raw = resource.getRawPath();
        return raw == null || raw.isEmpty() ? "/" : raw;
    }

    private static String origin(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        int port = uri.getPort();
        if (port == -1) {
            port = "https".equals(scheme) ? 443 : 80;
        }
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        return scheme + "://" + host + ":" + port;
    }
}
