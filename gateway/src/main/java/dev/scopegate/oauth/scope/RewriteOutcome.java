package dev.scopegate.oauth.scope;

import dev.scopegate.oauth.AuthorizationResponses;
import dev.scopegate.oauth.OAuthParams;

import java.util.List;
import java.util.Objects;

/**
 * What the IdP answered to an authorization or PAR request scopegate added a scope to:
 * {@code rejected} or accepted, the IdP's {@code error} code as a label from the closed set
 * {@link #ERRORS} ({@code none} when accepted), and whether the answer may demote the added scope
 * ({@link ScopeDemotions}): only an {@code invalid_scope} rejection that is this request's own
 * (an error redirect to the request's {@code redirect_uri} carrying its {@code state}, or the PAR
 * endpoint's direct answer). Pure; immutable.
 */
public record RewriteOutcome(boolean rejected, String error, boolean mayDemote) {

    /** The {@code error} label values; any other code the IdP sends is counted as {@code other}. */
    public static final List<String> ERRORS = List.of("none", "invalid_scope", "invalid_request", "access_denied",
            "unauthorized_client", "invalid_target", "server_error", "other");

    public static final RewriteOutcome ACCEPTED = new RewriteOutcome(false, "none", false);

    private static final String INVALID_SCOPE = "invalid_scope";

    public RewriteOutcome {
        Objects.requireNonNull(error, "error");
    }

    /** {@code error} as a label of {@link #ERRORS}: itself when listed (and not {@code none}), else {@code other}. */
    public static String errorLabel(/* nullable */ String error) {
        return error != null && !"none".equals(error) && ERRORS.contains(error) ? error : "other";
    }

    /**
     * The answer to an authorization request: an error redirect ({@code 3xx} whose {@code Location}
     * carries {@code error}) is a rejection; anything else (a login page, a redirect with a
     * {@code code} or to the IdP's own pages) an acceptance.
     *
     * @param redirectUri the request's {@code redirect_uri}, nullable
     * @param state       the request's {@code state}, nullable
     */
    public static RewriteOutcome ofAuthorization(int status, /* nullable */ String location,
                                                 /* nullable */ String redirectUri, /* nullable */ String state) {
        String error = errorOf(status, location);
        if (error == null) {
            return ACCEPTED;
        }
        boolean own = AuthorizationResponses.targets(location, redirectUri)
                && (state == null || state.equals(AuthorizationResponses.param(location, OAuthParams.STATE)));
        return new RewriteOutcome(true, errorLabel(error), own && INVALID_SCOPE.equals(error));
    }

    /**
     * Whether {@link #ofAuthorization} with this status and {@code Location} can be anything but
     * {@link #ACCEPTED}: an error redirect. Allocation-free when it is not one, so that a caller can
     * skip computing the request's {@code state} for the common answer.
     */
    public static boolean isErrorRedirect(int status, /* nullable */ String location) {
        return errorOf(status, location) != null;
    }

    private static /* nullable */ String errorOf(int status, /* nullable */ String location) {
        if (status < 300 || status >= 400 || location == null) {
            return null;
        }
        return AuthorizationResponses.param(location, OAuthParams.ERROR);
    }

    /**
     * The answer of the PAR endpoint (RFC 9126 §2.2, §2.3): 2xx accepts; anything else rejects,
     * with the JSON body's {@code error} ({@code error} null: none could be read).
     */
    public static RewriteOutcome ofPar(int status, /* nullable */ String error) {
        if (status >= 200 && status < 300) {
            return ACCEPTED;
        }
        return new RewriteOutcome(true, errorLabel(error), status >= 400 && status < 500 && INVALID_SCOPE.equals(error));
    }
}
