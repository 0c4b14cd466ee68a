/** The {@code demo} command's stand-in for a legacy IdP and its guide: not part of the gateway. */
package dev.scopegate.demo;
