// Several issuers behind one gateway (metadata.issuers.learn): a Keycloak-like IdP hosts realms
// a and b under /realms/<name>, each an oidc-provider with its own issuer and API scopes, strict
// (a request without scope is refused). scopegate is configured for realm a (public-base-url);
// realm b is learned from the MCP SDK's first discovery request, and from then on an
// authorization request to realm b without scope gets realm b's scopes_supported (scope source
// `server`), not realm a's.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { eventually, planGateway, removeDir, startGateway } from '../lib/gateway.js';
import { Connector } from '../lib/client.js';
import { scenario, scopesOf } from '../lib/fixture.js';
import { startRealms } from '../lib/realms.js';

const REALMS = { a: ['a:read'], b: ['b:read', 'b:write'] };

describe('realms: one configured, one learned, through scopegate', () => {
  let s;
  before(async () => {
    const plan = await planGateway({ issuerPath: '/realms/a' });
    const resource = `${plan.origin}/mcp`;
    const idp = await startRealms({ publicOrigin: plan.origin, realms: REALMS, resources: () => [resource] });
    let gw;
    try {
      gw = await startGateway(plan, {
        upstream: idp.origin,
        configure: (lines) => lines.map((l) => (l.startsWith('metadata:')
          ? 'metadata: {refresh: 5m, issuers: {learn: true, max: 4}}' : l))
          .map((l) => (l === 'scope:' ? 'scope:\n  sources: [client, registered, learned, server]' : l)),
      });
    } catch (e) {
      await idp.close();
      removeDir(plan.dir);
      throw e;
    }
    s = {
      plan, idp, gw, resource,
      connector: (realm) => new Connector(`${plan.origin}/realms/${realm}`, { resource }),
      async close() {
        await gw.stop();
        await idp.close();
        removeDir(plan.dir);
      },
    };
  });
  after(() => s?.close());

  scenario('the SDK discovers realm b through scopegate: learned, served with its own issuer', () => s, async () => {
    const host = s.connector('b');
    const md = await host.discover();
    assert.equal(md.issuer, `${s.plan.origin}/realms/b`);
    assert.equal(md.authorization_endpoint, `${s.plan.origin}/realms/b/oauth/authorize`);
    assert.deepEqual(scopesOf(md.scopes_supported.join(' ')), scopesOf('openid offline_access b:read b:write'));
    // the RFC 8414 form is forwarded (the IdP has none); the inserted OIDC form is served by scopegate
    assert.equal(host.discoveryTrail.at(-1), '200 /.well-known/openid-configuration/realms/b', host.discoveryTrail.join(', '));
    assert.equal(s.idp.received.some((r) => r.path === '/.well-known/openid-configuration/realms/b'), false);
    const metrics = await s.gw.metrics();
    assert.match(metrics, /scopegate_metadata_issuers_learned\S* 1\.0/);
  });

  for (const realm of ['b', 'a']) {
    scenario(`connect to realm ${realm} without scope: the realm's scopes reach its IdP`, () => s, async () => {
      const host = s.connector(realm);
      await host.discover();
      await host.register();
      const outcome = await host.connect({});
      assert.equal(outcome.ok, true, JSON.stringify({ ...outcome, request: undefined, flow: outcome.flow?.trail }));
      const sent = s.idp.requestsTo(realm, 'authorization', 'GET')[0];
      // scope source `server`: the realm's scopes_supported; offline_access among them brings prompt=consent
      const sdk = outcome.request.authorizationUrl.search.slice(1);
      assert.ok(sent.query.startsWith(`${sdk}&scope=`), sent.query);
      const added = new URLSearchParams(sent.query.slice(sdk.length + 1));
      assert.deepEqual(scopesOf(added.get('scope')), scopesOf(`openid offline_access ${REALMS[realm].join(' ')}`));
      assert.equal(added.get('prompt'), 'consent');
      assert.deepEqual(scopesOf(outcome.tokens.scope), scopesOf(REALMS[realm].join(' ')));
      const at = await s.idp.provider(realm).AccessToken.find(outcome.tokens.access_token);
      assert.deepEqual(scopesOf(at.scope), scopesOf(REALMS[realm].join(' ')));
      // the registration went to the realm's own endpoint, and scopegate captured it
      await eventually(async () => (await s.gw.storedClient(host.client.client_id)) !== null,
        { what: 'registration captured' });
    });
  }
});
