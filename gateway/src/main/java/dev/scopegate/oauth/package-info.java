/** OAuth vocabulary and decisions in plain Java: no Netty types here. */
package dev.scopegate.oauth;
