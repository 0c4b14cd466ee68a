/** Values that {@code oauth} and {@code store} both speak — the registration and its interner — and nothing else: no scopegate imports, no Netty. */
package dev.scopegate.model;
