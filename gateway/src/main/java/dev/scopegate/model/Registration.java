package dev.scopegate.model;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What scopegate knows of one client: the non-secret part of its RFC 7591 registration (captured
 * from the IdP's own 2xx answer, or imported) plus the scopes learned from its traffic.
 * {@code client_secret} and {@code registration_access_token} are never part of it.
 * Immutable and thread-safe; "changes" return new instances. Equal when every accessor's value is
 * equal, like a record.
 *
 * <p>A million of these stay in the registration cache, so the layout is compact (48 bytes with
 * compressed oops): what many clients share (scope, redirect URIs, grant types, client name and
 * the shape of the management URI) sits in one {@link Profile} that {@link RegistrationInterner}
 * lets equal registrations share, instants are kept as numbers, and a
 * {@code registration_client_uri} that contains the {@code client_id} is kept as the text around
 * it. {@link #registrationClientUri()}, {@link #createdAt()} and {@link #updatedAt()} therefore
 * build their answer on each call; the hot path reads only {@link #scope()},
 * {@link #learnedScope()} and {@link #redirectUris()}, which never allocate.
 */
public final class Registration {

    private final String clientId;
    private final Profile profile;
    private final String learnedScope;
    private final long createdSeconds;
    private final long updatedSeconds;
    private final int createdNanos;
    private final int updatedNanos;

    /**
     * @param clientId              never null
     * @param scope                 the registered scope (space-separated), null if none was registered
     * @param redirectUris          registered redirect URIs, exact strings as registered (null: none)
     * @param grantTypes            registered grant types (null: none)
     * @param clientName            nullable
     * @param registrationClientUri RFC 7592 management URI, nullable
     * @param learnedScope          scope learned from authorization requests / token responses, nullable
     * @param createdAt             when scopegate first stored the client
     * @param updatedAt             last change
     */
    public Registration(String clientId, String scope, List<String> redirectUris, List<String> grantTypes,
                        String clientName, String registrationClientUri, String learnedScope, Instant createdAt,
                        Instant updatedAt) {
        this(Objects.requireNonNull(clientId, "clientId"),
                new Profile(scope, redirectUris == null ? List.of() : List.copyOf(redirectUris),
                        grantTypes == null ? List.of() : List.copyOf(grantTypes), clientName,
                        UriAroundId.of(clientId, registrationClientUri)),
                learnedScope, Objects.requireNonNull(createdAt, "createdAt"),
                Objects.requireNonNull(updatedAt, "updatedAt"));
    }

    private Registration(String clientId, Profile profile, String learnedScope, Instant createdAt, Instant updatedAt) {
        this(clientId, profile, learnedScope, createdAt.getEpochSecond(), createdAt.getNano(),
                updatedAt.getEpochSecond(), updatedAt.getNano());
    }

    private Registration(String clientId, Profile profile, String learnedScope, long createdSeconds, int createdNanos,
                         long updatedSeconds, int updatedNanos) {
        this.clientId = clientId;
        this.profile = profile;
        this.learnedScope = learnedScope;
        this.createdSeconds = createdSeconds;
        this.createdNanos = createdNanos;
        this.updatedSeconds = updatedSeconds;
        this.updatedNanos = updatedNanos;
    }

    /** A client known only from what it was seen to ask or be granted. */
    public static Registration learnedOnly(String clientId, String learnedScope, Instant now) {
        return new Registration(clientId, null, List.of(), List.of(), null, null, learnedScope, now, now);
    }

    public Registration withLearnedScope(String learned, Instant now) {
        Objects.requireNonNull(now, "now");
        return new Registration(clientId, profile, learned, createdSeconds, createdNanos, now.getEpochSecond(),
                now.getNano());
    }

    /**
     * The IdP's newer view of the client (RFC 7592 read/update) keeps what scopegate learned and
     * when it first saw the client.
     */
    public Registration mergedInto(Registration older) {
        if (older == null) {
            return this;
        }
        return new Registration(clientId, scope(), redirectUris(), grantTypes(), clientName(),
                profile.registrationClientUri != null ? registrationClientUri() : older.registrationClientUri(),
                learnedScope != null ? learnedScope : older.learnedScope, older.createdAt(), updatedAt());
    }

    /** Never null. */
    public String clientId() {
        return clientId;
    }

    /** The registered scope (space-separated), null if none was registered. */
    public String scope() {
        return profile.scope;
    }

    /** Registered redirect URIs, exact strings as registered; immutable, never null. */
    public List<String> redirectUris() {
        return profile.redirectUris;
    }

    /** Registered grant types; immutable, never null. */
    public List<String> grantTypes() {
        return profile.grantTypes;
    }

    /** Nullable. */
    public String clientName() {
        return profile.clientName;
    }

    /** RFC 7592 management URI, nullable; built on each call when it was stored around the client_id. */
    public String registrationClientUri() {
        Object uri = profile.registrationClientUri;
        return uri instanceof UriAroundId around ? around.prefix + clientId + around.suffix : (String) uri;
    }

    /** Scope learned from authorization requests / token responses, nullable. */
    public String learnedScope() {
        return learnedScope;
    }

    /** When scopegate first stored the client. */
    public Instant createdAt() {
        return Instant.ofEpochSecond(createdSeconds, createdNanos);
    }

    /** Last change. */
    public Instant updatedAt() {
        return Instant.ofEpochSecond(updatedSeconds, updatedNanos);
    }

    /** The part a {@link RegistrationInterner} shares between clients. */
    Profile profile() {
        return profile;
    }

    /** This registration with an equal profile and learned scope (instances shared with other registrations). */
    Registration sharing(Profile equalProfile, String equalLearnedScope) {
        if (equalProfile == profile && equalLearnedScope == learnedScope) {
            return this;
        }
        return new Registration(clientId, equalProfile, equalLearnedScope, createdSeconds, createdNanos,
                updatedSeconds, updatedNanos);
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof Registration r
                && createdSeconds == r.createdSeconds && createdNanos == r.createdNanos
                && updatedSeconds == r.updatedSeconds && updatedNanos == r.updatedNanos
                && clientId.equals(r.clientId) && Objects.equals(learnedScope, r.learnedScope)
                && profile.equals(r.profile);
    }

    @Override
    public int hashCode() {
        int h = clientId.hashCode();
        h = 31 * h + profile.hashCode();
        h = 31 * h + Objects.hashCode(learnedScope);
        h = 31 * h + Long.hashCode(createdSeconds) + createdNanos;
        return 31 * h + Long.hashCode(updatedSeconds) + updatedNanos;
    }

    @Override
    public String toString() {
        return "Registration[clientId=" + clientId + ", scope=" + scope() + ", redirectUris=" + redirectUris()
                + ", grantTypes=" + grantTypes() + ", clientName=" + clientName() + ", registrationClientUri="
                + registrationClientUri() + ", learnedScope=" + learnedScope + ", createdAt=" + createdAt()
                + ", updatedAt=" + updatedAt() + "]";
    }

    /**
     * What clients registered alike have in common. Equal profiles of two registrations with equal
     * client ids mean equal registered metadata, since {@link UriAroundId#of} depends only on
     * the client id and the URI.
     *
     * @param registrationClientUri null, the URI as a {@code String}, or a {@link UriAroundId}
     */
    record Profile(String scope, List<String> redirectUris, List<String> grantTypes, String clientName,
                   Object registrationClientUri) {
    }

    /** A URI that is {@code prefix + client_id + suffix}: shared by every client of one IdP. */
    record UriAroundId(String prefix, String suffix) {

        /** {@code uri} as text around the last occurrence of {@code clientId} if it has one, else itself. */
        static Object of(String clientId, String uri) {
            int at = uri == null || clientId.isEmpty() ? -1 : uri.lastIndexOf(clientId);
            return at < 0 ? uri : new UriAroundId(uri.substring(0, at), uri.substring(at + clientId.length()));
        }
    }
}
