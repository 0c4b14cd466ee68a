/** The default {@link dev.scopegate.store.RegistrationStore}: a crash-safe SQLite file under {@code store.path}. */
package dev.scopegate.store.embedded;
