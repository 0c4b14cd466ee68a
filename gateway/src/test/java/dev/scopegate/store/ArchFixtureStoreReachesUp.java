package dev.scopegate.store;

/**
 * {@code ArchitectureTest} fixture, never used: {@code store} reaching back up into {@code oauth}
 * by a fully qualified name (no import line for a text search to find), which with
 * {@code oauth.ScopeNormalizer → store.RegistrationRepository} is the old {@code oauth ↔ store}
 * cycle.
 */
final class ArchFixtureStoreReachesUp {

    private ArchFixtureStoreReachesUp() {
    }

    static int upward(dev.scopegate.oauth.ScopeNormalizer normalizer) {
        return normalizer.hashCode();
    }
}
