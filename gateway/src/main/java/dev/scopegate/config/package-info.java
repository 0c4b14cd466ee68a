/** Immutable configuration records, the YAML loader and validator, and the atomically swapped holder. */
package dev.scopegate.config;
