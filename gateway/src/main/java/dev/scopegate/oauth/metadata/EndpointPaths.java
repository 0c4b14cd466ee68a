package dev.scopegate.oauth.metadata;

import dev.scopegate.config.ScopegateConfig;

/**
 * The request paths of the IdP endpoints scopegate routes specially, each null when neither the
 * metadata nor the config names it. Immutable.
 */
public record EndpointPaths(
        /* nullable */ String authorization,
        /* nullable */ String par,
        /* nullable */ String registration,
        /* nullable */ String token) {

    /** Nothing known. */
    public static final EndpointPaths NONE = new EndpointPaths(null, null, null, null);

    /**
     * The paths learned from {@code metadata} (null: nothing cached yet), each replaced by the
     * {@code endpoints:} override when one is configured. An override may be a path
     * ({@code /oauth/authorize}) or a URL (its path is taken).
     */
    public static EndpointPaths of(/* nullable */ ServerMetadata metadata,
                                   /* nullable */ ScopegateConfig.Endpoints overrides) {
        String authorization = metadata == null ? null : metadata.authorizationPath();
        String par = metadata == null ? null : metadata.parPath();
        String registration = metadata == null ? null : metadata.registrationPath();
        String token = metadata == null ? null : metadata.tokenPath();
        if (overrides != null) {
            authorization = override(overrides.authorization(), authorization);
            par = override(overrides.par(), par);
            registration = override(overrides.registration(), registration);
            token = override(overrides.token(), token);
        }
        return new EndpointPaths(authorization, par, registration, token);
    }

    private static String override(String configured, String learned) {
        if (configured == null || configured.isBlank()) {
            return learned;
        }
        String path = configured.startsWith("/") ? configured : ServerMetadata.pathOf(configured);
        return path != null ? path : learned;
    }
}
