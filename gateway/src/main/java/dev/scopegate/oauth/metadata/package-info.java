/** The IdP's authorization-server metadata: parsing, fetching, caching, refreshing and serving it (pure Java). */
package dev.scopegate.oauth.metadata;
