package dev.scopegate.store;

/** {@code ArchitectureTest} fixture, never used: a second logging API beside SLF4J. */
final class ArchFixtureStoreUsesJul {

    private ArchFixtureStoreUsesJul() {
    }

    static void log(String message) {
        java.util.logging.Logger.getLogger("scopegate.store").info(message);
    }
}
