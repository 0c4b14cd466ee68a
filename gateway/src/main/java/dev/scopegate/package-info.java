/** scopegate: the composition root and command-line entry points. */
package dev.scopegate;
