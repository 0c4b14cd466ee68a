// The three seed scenarios (shared/seed-scenarios.md), through scopegate and directly at the
// IdP, for both IdP modes. Every OAuth request is built by the MCP SDK.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import {
  RECONNECT_APPENDED,
  FIRST_CONNECT_SCOPE, SEED_SCOPE, appended, assertApiTokens, assertSeedFailure, directly, lastAt, scenario, sdkQuery, throughGateway,
  untilLearned,
} from '../lib/fixture.js';

for (const mode of ['lenient', 'strict']) {
  describe(`seed scenarios, ${mode} IdP, through scopegate`, () => {
    let s;
    before(async () => {
      s = await throughGateway({ mode });
    });
    after(() => s?.close());

    scenario('discovery names the gateway: issuer and endpoints', () => s, async () => {
      const host = s.connector();
      const md = await host.discover();
      assert.equal(md.issuer, s.serverUrl);
      for (const key of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'pushed_authorization_request_endpoint']) {
        assert.ok(md[key].startsWith(`${s.plan.origin}/oauth/`), `${key} ${md[key]} is on the gateway`);
      }
      assert.ok(md.scopes_supported.includes('time-off:write'));
      assert.ok(md.code_challenge_methods_supported.includes('S256'));
    });

    scenario('scenario 1: first connect gets the API scopes and a refresh token; the request reaches the IdP untouched', () => s, async () => {
      const host = s.connector();
      await host.discover();
      const client = await host.register();
      assert.equal(typeof client.client_secret, 'string', 'the registration response reaches the host unchanged');
      const first = await host.connect({ scope: FIRST_CONNECT_SCOPE });
      await assertApiTokens(s, first, { refreshToken: true });
      assert.equal(lastAt(s.idp, 'authorization'), sdkQuery(first));
      const refreshed = await host.refresh();
      assert.equal(typeof refreshed.access_token, 'string');
      assert.notEqual(refreshed.access_token, first.tokens.access_token);
      assert.equal(refreshed.scope, first.tokens.scope, 'refresh keeps the scopes');
    });

    scenario('scenario 2: reconnect without scope gets the API scopes; the IdP receives the SDK request plus scope', () => s, async () => {
      const host = s.connector();
      await host.discover();
      await host.register();
      await assertApiTokens(s, await host.connect({ scope: FIRST_CONNECT_SCOPE }), { refreshToken: true });
      // Disconnect, Connect: same client, no metadata or registration call, no scope.
      await untilLearned(s, host.client.client_id);
      host.tokens = undefined;
      const reconnect = await host.connect({});
      assert.equal(reconnect.request.authorizationUrl.searchParams.has('scope'), false, 'the SDK sent no scope');
      await assertApiTokens(s, reconnect, {});
      // state, PKCE, resource and every other byte as the SDK sent them; the scope appended.
      assert.equal(lastAt(s.idp, 'authorization'), sdkQuery(reconnect) + RECONNECT_APPENDED);
      const stored = await s.gw.storedClient(host.client.client_id);
      assert.equal(stored.registration.client_id, host.client.client_id);
    });

    // A reconnect gets what the first connect got, refresh token included: scopegate appends the
    // scope the client asked for in the flow its code exchange completed (not the narrower
    // granted one), and adds prompt=consent with offline_access (OIDC Core §11), as the SDK does.
    scenario('scenario 2: the reconnect holds a refresh token too (offline_access carried, with prompt=consent)', () => s, async () => {
      const host = s.connector();
      await host.discover();
      await host.register();
      await assertApiTokens(s, await host.connect({ scope: FIRST_CONNECT_SCOPE }), { refreshToken: true });
      await untilLearned(s, host.client.client_id);
      host.tokens = undefined;
      const reconnect = await host.connect({});
      assert.equal(lastAt(s.idp, 'authorization'), sdkQuery(reconnect) + RECONNECT_APPENDED);
      await assertApiTokens(s, reconnect, { refreshToken: true });
    });

    scenario('scenario 2: a client registered with offline_access gets a refresh token on a scope-less connect', () => s, async () => {
      const host = s.connector();
      await host.discover();
      await host.register({ scope: FIRST_CONNECT_SCOPE }); // the `registered` source then carries offline_access
      const reconnect = await host.connect({});
      assert.equal(lastAt(s.idp, 'authorization'), sdkQuery(reconnect) + RECONNECT_APPENDED);
      await assertApiTokens(s, reconnect, { refreshToken: true });
    });

    scenario('scenario 3: abandoned consent, then connect with scope: untouched, and it works', () => s, async () => {
      const host = s.connector();
      await host.discover();
      await host.register();
      const abandoned = await host.connect({ scope: FIRST_CONNECT_SCOPE, consent: false });
      assert.equal(abandoned.stage, 'abandoned');
      assert.equal(lastAt(s.idp, 'authorization'), sdkQuery(abandoned));
      const again = await host.connect({ scope: FIRST_CONNECT_SCOPE });
      await assertApiTokens(s, again, { refreshToken: true });
      assert.equal(lastAt(s.idp, 'authorization'), sdkQuery(again));
    });
  });

  describe(`seed scenarios, ${mode} IdP, directly (no scopegate)`, () => {
    let d;
    before(async () => {
      d = await directly({ mode });
    });
    after(() => d?.close());

    scenario('scenario 1: first connect works', () => d, async () => {
      const host = d.connector();
      await host.discover();
      await host.register();
      await assertApiTokens(d, await host.connect({ scope: FIRST_CONNECT_SCOPE }), { refreshToken: true });
    });

    scenario('scenario 2: reconnect without scope FAILS at the IdP', () => d, async () => {
      const host = d.connector();
      await host.discover();
      await host.register();
      await assertApiTokens(d, await host.connect({ scope: FIRST_CONNECT_SCOPE }), { refreshToken: true });
      host.tokens = undefined;
      const reconnect = await host.connect({});
      assert.equal(reconnect.ok, false);
      assert.equal(host.tokens, undefined, 'the host holds no token');
      assert.equal(lastAt(d.idp, 'authorization'), sdkQuery(reconnect), 'the IdP got the request without scope');
      assertSeedFailure(mode, reconnect);
    });

    scenario('scenario 3: abandoned consent, then connect works', () => d, async () => {
      const host = d.connector();
      await host.discover();
      await host.register();
      assert.equal((await host.connect({ scope: FIRST_CONNECT_SCOPE, consent: false })).stage, 'abandoned');
      await assertApiTokens(d, await host.connect({ scope: FIRST_CONNECT_SCOPE }), { refreshToken: true });
    });
  });
}
