// Issue 16 items 4, 6 and 7 against oidc-provider through scopegate: the IdP's answers to the
// scopes scopegate adds (a learned scope the IdP stopped allowing is rejected with invalid_scope,
// demoted, and the next reconnect falls through to the next source), scope.add-always
// (offline_access, hence a refresh token, on a reconnect whose learned scope lacks it), and
// compat.add-iss (iss in the authorization response the MCP SDK's host receives).

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import {
  FIRST_CONNECT_SCOPE, SEED_SCOPE, assertApiTokens, lastAt, scenario, scopesOf, throughGateway, untilLearned,
} from '../lib/fixture.js';
import { eventually } from '../lib/gateway.js';

/** The value of one sample of the gateway's /metrics, 0 when absent. */
async function metric(setup, line) {
  for (const l of (await setup.gw.metrics()).split('\n')) {
    if (l.startsWith(`${line} `)) {
      return Number(l.slice(line.length + 1));
    }
  }
  return 0;
}

const outcome = (source, result, error) =>
  `scopegate_rewrite_outcomes_total{error="${error}",family="chatgpt.com",outcome="${result}",source="${source}"}`;

/** The scope the IdP received with the last authorization request. */
const lastScope = (s) => new URLSearchParams(lastAt(s.idp, 'authorization')).get('scope');

describe('a learned scope the IdP rejects with invalid_scope is demoted', () => {
  let s;
  before(async () => {
    s = await throughGateway({ mode: 'strict', scopeLines: ['  sources: [learned, default]', `  default: "${SEED_SCOPE}"`] });
  });
  after(() => s?.close());

  scenario('the client loses offline_access at the IdP between two reconnects', () => s, async () => {
    const host = s.connector();
    await host.discover();
    await host.register({ scope: FIRST_CONNECT_SCOPE });
    await assertApiTokens(s, await host.connect({ scope: FIRST_CONNECT_SCOPE }), { refreshToken: true });
    await untilLearned(s, host.client.client_id);

    // The IdP's operator narrows what the client may ask for.
    const adapter = s.idp.provider.Client.adapter;
    const stored = await adapter.find(host.client.client_id);
    await adapter.upsert(host.client.client_id, { ...stored, scope: SEED_SCOPE });

    host.tokens = undefined;
    const rejected = await host.connect({});
    assert.equal(rejected.ok, false);
    assert.equal(rejected.error, 'invalid_scope');
    assert.deepEqual(scopesOf(lastScope(s)), scopesOf(FIRST_CONNECT_SCOPE), 'the learned scope was added');
    assert.equal(await metric(s, outcome('learned', 'rejected', 'invalid_scope')), 1);
    assert.match(await s.gw.explain(host.client.client_id), /DEMOTED/);

    const next = await host.connect({});
    await assertApiTokens(s, next, {});
    assert.deepEqual(scopesOf(lastScope(s)), scopesOf(SEED_SCOPE), 'fell through to the default');
    assert.equal(await metric(s, outcome('default', 'accepted', 'none')), 1);
  });
});

describe('scope.add-always and compat.add-iss', () => {
  let s;
  before(async () => {
    s = await throughGateway({
      mode: 'strict',
      scopeLines: ['  add-always: [offline_access]'],
      topLines: ['compat: {add-iss: true}'],
    });
  });
  after(() => s?.close());

  scenario('a reconnect whose scope lacks offline_access gets it, and a refresh token', () => s, async () => {
    const host = s.connector();
    await host.discover();
    await host.register({ scope: FIRST_CONNECT_SCOPE });
    // The client asks without offline_access: scopegate extends its own scope.
    const first = await host.connect({ scope: SEED_SCOPE });
    await assertApiTokens(s, first, { refreshToken: true });
    assert.deepEqual(scopesOf(lastScope(s)), scopesOf(FIRST_CONNECT_SCOPE));
    assert.ok(first.tokens.refresh_token, 'a refresh token');
    // iss reached the host's callback, and the metadata says so.
    assert.equal(first.flow.callback.searchParams.get('iss'), s.serverUrl);
    assert.equal(host.metadata.authorization_response_iss_parameter_supported, true);
    await eventually(async () => Boolean((await s.gw.storedClient(host.client.client_id))?.registration?.learned_scope),
      { what: 'a learned scope' });

    host.tokens = undefined;
    const reconnect = await host.connect({});
    await assertApiTokens(s, reconnect, { refreshToken: true });
    assert.ok(reconnect.tokens.refresh_token, 'a refresh token on reconnect');
    assert.ok(scopesOf(lastScope(s)).includes('offline_access'));
  });
});
