package dev.scopegate.oauth.scope;

/** Reading space-separated scope values (RFC 6749 §3.3) without splitting them. Stateless. */
final class ScopeTokens {

    private ScopeTokens() {
    }

    /** Whether {@code token} is one of the space-separated tokens of {@code scope}. */
    static boolean contains(String scope, String token) {
        int n = token.length();
        for (int at = scope.indexOf(token); at >= 0; at = scope.indexOf(token, at + 1)) {
            boolean startOk = at == 0 || scope.charAt(at - 1) == ' ';
            boolean endOk = at + n == scope.length() || scope.charAt(at + n) == ' ';
            if (startOk && endOk) {
                return true;
            }
        }
        return false;
    }
}
