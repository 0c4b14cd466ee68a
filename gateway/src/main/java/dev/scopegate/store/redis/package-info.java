/** {@code store.type: redis}: registrations shared by several replicas through Redis, with a local outbox for outages. */
package dev.scopegate.store.redis;
