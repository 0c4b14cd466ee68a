/** Where registrations live: the {@link dev.scopegate.store.RegistrationStore} contract, its cache and implementations. */
package dev.scopegate.store;
