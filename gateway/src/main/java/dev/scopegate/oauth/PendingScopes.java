package dev.scopegate.oauth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;

/**
 * Scopes that clients asked for in authorization requests, held until the same PKCE flow
 * completes at the token endpoint. Only then does the scope become the client's learned scope:
 * the code exchange proves the flow was the client's own (it needs the verifier behind the
 * {@code code_challenge}), so a third party sending authorization requests with someone else's
 * {@code client_id} cannot change what that client is given later.
 *
 * <p>In memory, bounded, entries expire; thread-safe.
 */
public final class PendingScopes {

    private final Cache<String, String> pending;

    public PendingScopes(long maxSize, Duration ttl, Ticker ticker) {
        this.pending = Caffeine.newBuilder().maximumSize(maxSize).expireAfterWrite(ttl).ticker(ticker).build();
    }

    /** Remembers {@code scope} for the flow of {@code clientId} identified by {@code codeChallenge}. */
    public void remember(String clientId, String codeChallenge, String scope) {
        if (clientId == null || codeChallenge == null || codeChallenge.isEmpty() || scope == null || scope.isBlank()) {
            return;
        }
        pending.put(key(clientId, codeChallenge), scope);
    }

    /**
     * The scope remembered for the flow whose verifier is {@code codeVerifier} (S256 or plain),
     * removed once confirmed; null when there is none.
     */
    public String confirm(String clientId, String codeVerifier) {
        if (clientId == null || codeVerifier == null || codeVerifier.isEmpty()) {
            return null;
        }
        String s256 = key(clientId, s256(codeVerifier));
        String scope = pending.asMap().remove(s256);
        return scope != null ? scope : pending.asMap().remove(key(clientId, codeVerifier));
    }

    /** RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))) without padding. */
    static String s256(String verifier) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(hash);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String key(String clientId, String challenge) {
        return clientId + '\n' + challenge;
    }

    public long size() {
        return pending.estimatedSize();
    }
}
