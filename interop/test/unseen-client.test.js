// Clients whose scope scopegate cannot know: registered at the IdP before scopegate was
// deployed (or around it), or registered without a scope and never connected. What
// scope.on-unresolved does with them (forward unchanged, or reject with invalid_scope), and
// how a first connect through the gateway teaches it the scope anyway.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { Connector } from '../lib/client.js';
import {
  RECONNECT_APPENDED,
  FIRST_CONNECT_SCOPE, SEED_SCOPE, appended, assertApiTokens, assertSeedFailure, lastAt, scenario, sdkQuery,
  throughGateway, untilLearned,
} from '../lib/fixture.js';

/** A host whose client was registered straight at the IdP; it then talks to the gateway only. */
async function hostRegisteredBehindTheGatewaysBack(s) {
  const side = new Connector(s.idp.origin, { resource: s.resource });
  await side.discover();
  const client = await side.register();
  const host = s.connector();
  await host.discover();
  host.client = client;
  assert.equal(await s.gw.storedClient(client.client_id), null, 'scopegate never saw the registration');
  return host;
}

function unresolvedCount(metrics, action) {
  const line = metrics.split('\n').find((l) => l.startsWith('scopegate_rewrite_unresolved_total{') && l.includes(`action="${action}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

for (const mode of ['lenient', 'strict']) {
  describe(`client the gateway never saw register, on-unresolved: forward, ${mode} IdP`, () => {
    let s;
    before(async () => {
      s = await throughGateway({ mode, onUnresolved: 'forward' });
    });
    after(() => s?.close());

    scenario('connect without scope is forwarded unchanged, and fails at the IdP as without scopegate', () => s, async () => {
      const host = await hostRegisteredBehindTheGatewaysBack(s);
      const before = unresolvedCount(await s.gw.metrics(), 'forward');
      const outcome = await host.connect({});
      assert.equal(lastAt(s.idp, 'authorization'), sdkQuery(outcome), 'forwarded byte for byte');
      assert.equal(host.tokens, undefined, 'the host holds no token');
      assertSeedFailure(mode, outcome);
      assert.equal(unresolvedCount(await s.gw.metrics(), 'forward'), before + 1, 'counted as unresolved');
    });

    scenario('a first connect with scope through the gateway teaches it: the reconnect without scope works', () => s, async () => {
      const host = await hostRegisteredBehindTheGatewaysBack(s);
      await assertApiTokens(s, await host.connect({ scope: FIRST_CONNECT_SCOPE }), { refreshToken: true });
      await untilLearned(s, host.client.client_id);
      host.tokens = undefined;
      const reconnect = await host.connect({});
      await assertApiTokens(s, reconnect, {});
      assert.equal(lastAt(s.idp, 'authorization'), sdkQuery(reconnect) + RECONNECT_APPENDED);
    });
  });

  describe(`unresolved clients, on-unresolved: reject, ${mode} IdP`, () => {
    let s;
    before(async () => {
      s = await throughGateway({ mode, onUnresolved: 'reject' });
    });
    after(() => s?.close());

    scenario('never-seen client: scopegate answers 400 itself (no redirect to an unverified redirect_uri)', () => s, async () => {
      const host = await hostRegisteredBehindTheGatewaysBack(s);
      const seen = s.idp.requestsTo('authorization').length;
      const outcome = await host.connect({});
      assert.equal(outcome.ok, false);
      assert.equal(outcome.status, 400);
      assert.equal(outcome.flow.trail.length, 1);
      assert.equal(host.tokens, undefined, 'the host holds no token');
      assert.equal(s.idp.requestsTo('authorization').length, seen, 'the IdP never saw the request');
    });

    scenario('registered without scope, never connected: invalid_scope redirected to the registered redirect_uri', () => s, async () => {
      const host = s.connector();
      await host.discover();
      await host.register();
      const seen = s.idp.requestsTo('authorization').length;
      const outcome = await host.connect({}); // state checked by the host
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error, 'invalid_scope');
      assert.equal(outcome.flow.callback.searchParams.get('iss'), s.serverUrl, 'RFC 9207 iss, as the IdP advertises');
      assert.equal(s.idp.requestsTo('authorization').length, seen, 'the IdP never saw the request');
    });

    scenario('known clients are unaffected: reconnect without scope works', () => s, async () => {
      const host = s.connector();
      await host.discover();
      await host.register({ scope: SEED_SCOPE });
      const outcome = await host.connect({});
      await assertApiTokens(s, outcome, {});
      assert.equal(lastAt(s.idp, 'authorization'), sdkQuery(outcome) + appended(SEED_SCOPE));
    });
  });
}
