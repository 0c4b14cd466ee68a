/** Netty implementation of {@link dev.scopegate.oauth.HttpFetcher} for the documents scopegate fetches itself. */
package dev.scopegate.fetch;
