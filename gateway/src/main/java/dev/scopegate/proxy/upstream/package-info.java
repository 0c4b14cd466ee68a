/** Per-event-loop keep-alive connection pools to upstream origins and the upstream-side handler. */
package dev.scopegate.proxy.upstream;
