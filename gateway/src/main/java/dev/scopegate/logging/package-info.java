/** Log output that never blocks an event loop: plain Java and Logback, no Netty, no other scopegate package. */
package dev.scopegate.logging;
