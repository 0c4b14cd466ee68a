package dev.scopegate.proxy.route;

import java.util.Locale;

/** Which kind of endpoint a request addresses; also the {@code route} label of request metrics. */
public enum RouteKind {
    AUTHORIZE, PAR, REGISTRATION, REGISTRATION_MANAGEMENT, TOKEN, METADATA, PASS_THROUGH, EXTRA_ROUTE;

    private final String label = name().toLowerCase(Locale.ROOT).replace('_', '-');

    public String label() {
        return label;
    }
}
