/** Scope resolution (DESIGN §3): the trigger, the source chain, the policy and the sealed decision, as pure functions. */
package dev.scopegate.oauth.scope;
