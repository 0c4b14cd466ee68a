// Authorization requests without scope sent as a POST form (OIDC Core §3.1.2.1) and pushed
// (PAR, RFC 9126). The SDK has no function for either: its authorization parameters are sent
// as they are, as the form body. The clients registered their scope (DCR `scope`), so
// scopegate's `registered` source answers.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import {
  SEED_SCOPE, appended, assertApiTokens, assertSeedFailure, directly, lastAt, scenario, throughGateway,
} from '../lib/fixture.js';

/** The SDK-built parameters, as the form body the host sent. */
const form = (outcome) => outcome.request.authorizationUrl.searchParams.toString();

for (const mode of ['lenient', 'strict']) {
  describe(`POST and PAR without scope, ${mode} IdP, through scopegate`, () => {
    let s;
    before(async () => {
      s = await throughGateway({ mode });
    });
    after(() => s?.close());

    scenario('POST authorization request without scope: the form reaches the IdP with the scope appended', () => s, async () => {
      const host = s.connector();
      await host.discover();
      const client = await host.register({ scope: SEED_SCOPE });
      assert.equal(client.scope, SEED_SCOPE, 'the IdP registered the scope');
      const outcome = await host.connect({ via: 'post' });
      await assertApiTokens(s, outcome, {});
      assert.equal(lastAt(s.idp, 'authorization', 'POST'), form(outcome) + appended(SEED_SCOPE));
    });

    scenario('PAR without scope: the pushed request reaches the IdP with the scope appended', () => s, async () => {
      const host = s.connector();
      await host.discover();
      await host.register({ scope: SEED_SCOPE, authMethod: 'none' });
      const outcome = await host.connect({ via: 'par' });
      await assertApiTokens(s, outcome, {});
      assert.equal(lastAt(s.idp, 'pushed_authorization_request', 'POST'), form(outcome) + appended(SEED_SCOPE));
      // The front-channel request carries only client_id and request_uri: never rewritten.
      const front = lastAt(s.idp, 'authorization');
      assert.match(front, /^client_id=[^&]+&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A[^&]+$/);
    });
  });

  describe(`POST and PAR without scope, ${mode} IdP, directly (no scopegate)`, () => {
    let d;
    before(async () => {
      d = await directly({ mode });
    });
    after(() => d?.close());

    scenario('POST authorization request without scope FAILS', () => d, async () => {
      const host = d.connector();
      await host.discover();
      await host.register({ scope: SEED_SCOPE });
      const outcome = await host.connect({ via: 'post' });
      assert.equal(host.tokens, undefined, 'the host holds no token');
      assert.equal(lastAt(d.idp, 'authorization', 'POST'), form(outcome));
      assertSeedFailure(mode, outcome);
    });

    scenario('PAR without scope FAILS', () => d, async () => {
      const host = d.connector();
      await host.discover();
      await host.register({ scope: SEED_SCOPE, authMethod: 'none' });
      const outcome = await host.connect({ via: 'par' });
      assert.equal(host.tokens, undefined, 'the host holds no token');
      assert.equal(lastAt(d.idp, 'pushed_authorization_request', 'POST'), form(outcome));
      if (mode === 'strict') {
        assert.equal(outcome.stage, 'par');
        assert.equal(outcome.status, 400);
        assert.equal(outcome.error, 'invalid_scope');
      } else {
        assertSeedFailure(mode, outcome);
      }
    });
  });
}
