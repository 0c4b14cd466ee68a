/** Thin adapters between HTTP exchanges and OAuth decisions: authorize rewrite, registration capture, metadata serving. */
package dev.scopegate.proxy.route;
