package dev.scopegate.model;

/** {@code ArchitectureTest} fixture, never used: the model, a leaf, reaching up into {@code store}. */
final class ArchFixtureModelReachesUp {

    private ArchFixtureModelReachesUp() {
    }

    static boolean upward(dev.scopegate.store.RegistrationStore store) {
        return store == null;
    }
}
