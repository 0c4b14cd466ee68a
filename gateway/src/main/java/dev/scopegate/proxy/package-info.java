/** Netty only: server bootstrap, pipeline, frontend exchange handling, hop-by-hop headers, error responses. */
package dev.scopegate.proxy;
