// Test set-ups: the IdP behind scopegate (the issuer and every endpoint are the gateway's), or
// the IdP alone (the direct runs), plus the assertions every scenario shares.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Connector } from './client.js';
import { eventually, planGateway, removeDir, startGateway } from './gateway.js';
import { SEED_SCOPE, startIdp } from './idp.js';

export { SEED_SCOPE, API_SCOPES, ROUTES } from './idp.js';
export const FIRST_CONNECT_SCOPE = `${SEED_SCOPE} offline_access`;
/** How scopegate appends the scope to a raw query or form (spaces as %20, the rest percent-encoded). */
export const appended = (scope) => `&scope=${encodeURIComponent(scope)}`;
/**
 * What a reconnect after a first connect with FIRST_CONNECT_SCOPE gets appended: that scope
 * (learned from the completed flow), and prompt=consent because it holds offline_access.
 */
export const RECONNECT_APPENDED = `${appended(FIRST_CONNECT_SCOPE)}&prompt=consent`;

/**
 * The IdP behind scopegate: the IdP's issuer is the gateway's public-base-url.
 *
 * @param {object} o
 * @param {'lenient'|'strict'} o.mode
 * @param {string} [o.issuerPath] e.g. '/tenant-a': the IdP is mounted there, and public-base-url has that path
 * @param {'forward'|'reject'} [o.onUnresolved]
 * @param {boolean} [o.rewriteHost]
 * @param {string[]} [o.scopeLines] more config lines under `scope:` (see startGateway)
 * @param {string[]} [o.topLines] more top-level config lines
 */
export async function throughGateway({
  mode, issuerPath = '', onUnresolved = 'forward', rewriteHost = false, scopeLines = [], topLines = [],
}) {
  const plan = await planGateway({ issuerPath });
  const resource = `${plan.origin}/mcp`;
  const idp = await startIdp({ mode, issuer: () => plan.publicBaseUrl, mountPath: issuerPath, resources: [resource] });
  const options = { upstream: idp.origin, onUnresolved, rewriteHost, scopeYaml: scopeLines, extraYaml: topLines };
  let gw;
  try {
    gw = await startGateway(plan, options);
  } catch (e) {
    await idp.close();
    removeDir(plan.dir);
    throw e;
  }
  const setup = {
    plan,
    idp,
    gw,
    resource,
    serverUrl: plan.publicBaseUrl,
    connector: () => new Connector(plan.publicBaseUrl, { resource }),
    /**
     * Starts the gateway again on the same ports, config and store (after stop() or crash()).
     * { waitReady: false }: resolves once spawned, without waiting for /readyz.
     */
    async restart({ waitReady = true } = {}) {
      setup.gw = await startGateway(plan, { ...options, waitReady });
      return setup.gw;
    },
    async close() {
      await setup.gw.stop();
      await idp.close();
      removeDir(plan.dir);
    },
  };
  return setup;
}

/** The IdP alone: clients talk to it directly (its issuer is its own origin). */
export async function directly({ mode, mountPath = '' }) {
  let resource;
  const idp = await startIdp({ mode, mountPath, resources: (port) => [resource = `http://127.0.0.1:${port}/mcp`] });
  return {
    idp,
    resource,
    serverUrl: idp.issuer,
    connector: () => new Connector(idp.issuer, { resource }),
    close: () => idp.close(),
  };
}

/**
 * A test that, when it fails through the gateway, carries the tail of scopegate's log in its
 * error (the gateway is a child process: its log is otherwise lost with its temp dir).
 */
export function scenario(name, getSetup, fn, options = {}) {
  test(name, options, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const gw = getSetup()?.gw;
      if (gw && !options.todo) {
        t.diagnostic(`scopegate log (last 40 lines):\n${gw.log().split('\n').slice(-40).join('\n')}`);
      }
      throw e;
    }
  });
}

/**
 * Waits until scopegate has stored what it learned from a first connect: the scope the client
 * asked for, confirmed by the code exchange of the same flow (written after the token response,
 * off the request path). A real reconnect
 * comes seconds to days later; the test must not race the store write.
 */
export async function untilLearned(setup, clientId, scope = FIRST_CONNECT_SCOPE) {
  await eventually(async () => (await setup.gw.storedClient(clientId))?.registration?.learned_scope === scope,
    { what: `scopegate learned "${scope}" for the client` });
}

export function scopesOf(value) {
  return (value ?? '').split(' ').filter(Boolean).sort();
}

/** The host ends with usable tokens for the seed's API scopes. */
export async function assertApiTokens(setup, outcome, { refreshToken }) {
  assert.equal(outcome.ok, true, `the flow did not end with tokens: ${JSON.stringify({ ...outcome, request: undefined, flow: outcome.flow?.trail })}`);
  const { tokens } = outcome;
  assert.deepEqual(scopesOf(tokens.scope), scopesOf(SEED_SCOPE), 'granted scopes in the token response');
  assert.equal(tokens.token_type, 'Bearer');
  // What the access token means at the IdP: the API scopes, for the MCP resource.
  const at = await setup.idp.provider.AccessToken.find(tokens.access_token);
  assert.ok(at, 'the IdP knows the access token');
  assert.deepEqual(scopesOf(at.scope), scopesOf(SEED_SCOPE), 'scopes of the access token at the IdP');
  assert.equal(at.aud, setup.resource, 'audience of the access token');
  if (refreshToken === true) {
    assert.equal(typeof tokens.refresh_token, 'string', 'a refresh token (offline_access)');
  } else if (refreshToken === false) {
    assert.equal(tokens.refresh_token, undefined, 'no refresh token');
  }
}

/** The last request the IdP received at an endpoint (ROUTES key), as raw query or form body. */
export function lastAt(idp, route, method = 'GET') {
  const all = idp.requestsTo(route, method);
  assert.ok(all.length > 0, `the IdP received no ${method} ${route} request`);
  const r = all[all.length - 1];
  return method === 'GET' ? r.query : r.body;
}

/** The SDK-built authorization request's raw query. */
export function sdkQuery(outcome) {
  return outcome.request.authorizationUrl.search.slice(1);
}

/**
 * How each IdP mode fails a request without scope. strict: refused at once with invalid_scope
 * (the seed's IdP). lenient (oidc-provider's default): accepted, the user signs in, nothing is
 * there to consent to, and the flow ends in access_denied ("no scope was granted"): no token.
 */
export function assertSeedFailure(mode, outcome) {
  assert.equal(outcome.stage, 'authorize');
  if (mode === 'strict') {
    assert.equal(outcome.error, 'invalid_scope');
    assert.equal(outcome.flow.trail.length, 1, `refused at the first request: ${outcome.flow.trail}`);
  } else {
    assert.equal(outcome.error, 'access_denied');
    assert.ok(outcome.flow.trail.some((step) => step.endsWith('/login')), `the user signed in first: ${outcome.flow.trail}`);
  }
}
