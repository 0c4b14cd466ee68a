/** Every meter name and tag of scopegate, in one place. */
package dev.scopegate.metrics;
