package dev.scopegate.oauth;

import java.util.Locale;

/**
 * The one place for OAuth 2.0 parameter names (query, form and JSON member names alike), and the
 * rule for which of them must never reach a log. Stateless; safe from any thread.
 */
public final class OAuthParams {

    public static final String RESPONSE_TYPE = "response_type";
    public static final String CLIENT_ID = "client_id";
    public static final String REDIRECT_URI = "redirect_uri";
    public static final String SCOPE = "scope";
    public static final String STATE = "state";
    public static final String CODE_CHALLENGE = "code_challenge";
    public static final String CODE_CHALLENGE_METHOD = "code_challenge_method";
    public static final String RESOURCE = "resource";
    /** Auth0's non-standard stand-in for {@code resource} ({@code compat.resource-parameter: audience}). */
    public static final String AUDIENCE = "audience";
    public static final String REQUEST = "request";
    public static final String REQUEST_URI = "request_uri";
    public static final String NONCE = "nonce";
    public static final String PROMPT = "prompt";
    public static final String CODE = "code";
    public static final String CODE_VERIFIER = "code_verifier";
    public static final String GRANT_TYPE = "grant_type";
    public static final String REFRESH_TOKEN = "refresh_token";
    public static final String CLIENT_SECRET = "client_secret";
    public static final String CLIENT_ASSERTION = "client_assertion";
    public static final String ACCESS_TOKEN = "access_token";
    public static final String ID_TOKEN = "id_token";
    public static final String REGISTRATION_ACCESS_TOKEN = "registration_access_token";
    public static final String ISS = "iss";
    public static final String ERROR = "error";
    public static final String ERROR_DESCRIPTION = "error_description";

    private OAuthParams() {
    }

    /**
     * Whether a parameter's value must be redacted from logs: {@code code}, {@code code_verifier},
     * {@code client_secret}, {@code client_assertion}, {@code refresh_token}, {@code access_token},
     * {@code id_token}, {@code registration_access_token} and {@code password}. Compared ignoring
     * case because redacting too much is harmless while a lenient IdP might accept {@code Code}.
     * {@code null} is not secret.
     */
    public static boolean isSecret(String name) {
        if (name == null) {
            return false;
        }
        return switch (name.toLowerCase(Locale.ROOT)) {
            case CODE, CODE_VERIFIER, CLIENT_SECRET, CLIENT_ASSERTION, REFRESH_TOKEN, ACCESS_TOKEN, ID_TOKEN,
                    REGISTRATION_ACCESS_TOKEN, "password" -> true;
            default -> false;
        };
    }
}
