/** Fetched fact sources of the scope chain: protected-resource metadata (RFC 9728) and Client ID Metadata Documents. */
package dev.scopegate.oauth.document;
