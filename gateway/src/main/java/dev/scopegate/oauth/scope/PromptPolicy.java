package dev.scopegate.oauth.scope;

import dev.scopegate.config.ScopegateConfig.OfflineAccessPrompt;

import java.util.Objects;

/**
 * {@code scope.offline-access-prompt}: the {@code prompt} that goes with a scope scopegate adds.
 * With {@code consent} (the default), a scope that holds the token {@code offline_access} brings
 * {@code prompt=consent}: OpenID Connect Core §11 has a server ignore {@code offline_access}
 * without it, and many IdPs issue a refresh token only after consent; clients that ask for
 * {@code offline_access} themselves send it (the MCP SDK does), so a reconnect without scope gets
 * the refresh token its first connect got. With {@code none}, nothing is added (never
 * {@code prompt=none}).
 *
 * <p>The caller adds the prompt only when the request names none: a {@code prompt} the client
 * chose is never changed. Immutable; safe for any thread.
 */
public final class PromptPolicy {

    /** The value added as {@code prompt}. */
    public static final String CONSENT = "consent";
    static final String OFFLINE_ACCESS = "offline_access";

    private final boolean consent;

    public PromptPolicy(OfflineAccessPrompt mode) {
        this.consent = Objects.requireNonNull(mode, "mode") == OfflineAccessPrompt.CONSENT;
    }

    /** The {@code prompt} to add with {@code addedScope} to a request that has none; null: none. */
    public /* nullable */ String promptFor(String addedScope) {
        return consent && hasToken(addedScope, OFFLINE_ACCESS) ? CONSENT : null;
    }

    /** Whether the space-separated {@code scope} holds {@code token} as a whole token. */
    static boolean hasToken(String scope, String token) {
        int i = 0;
        while ((i = scope.indexOf(token, i)) >= 0) {
            int end = i + token.length();
            if ((i == 0 || scope.charAt(i - 1) == ' ') && (end == scope.length() || scope.charAt(end) == ' ')) {
                return true;
            }
            i = end;
        }
        return false;
    }
}
