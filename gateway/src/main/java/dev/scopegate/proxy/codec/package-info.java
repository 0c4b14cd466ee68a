/**
 * Byte-level pieces of the HTTP/1.1 codecs shared by the client and upstream sides: plain Java
 * over Netty buffers, no handlers.
 */
package dev.scopegate.proxy.codec;
