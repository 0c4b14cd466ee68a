/** TLS contexts built from the operator's PEM files, and rebuilt when those files change. */
package dev.scopegate.tls;
