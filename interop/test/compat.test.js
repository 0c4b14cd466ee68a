// Issue 16 items 3 and 5 against oidc-provider set up like the IdPs that need them, with every
// OAuth request built by the MCP SDK:
//   - an IdP that refuses the RFC 8707 `resource` parameter (Entra-like): the SDK always sends
//     it, so the flow fails straight at the IdP and succeeds through scopegate with
//     compat.resource-parameter: strip;
//   - an IdP that grants a client registered without `scope` nothing but openid: the SDK's
//     registration without scope leaves the client unable to get the API scopes straight at the
//     IdP, and through scopegate with scope.fill-registration the registration carries them.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { Connector } from '../lib/client.js';
import { planGateway, removeDir, startGateway } from '../lib/gateway.js';
import { SEED_SCOPE, startIdp } from '../lib/idp.js';
import { FIRST_CONNECT_SCOPE, lastAt, scenario, scopesOf } from '../lib/fixture.js';

/** The IdP behind scopegate (issuer = the gateway), with IdP and gateway options. */
async function behindGateway(idpOptions, gatewayOptions) {
  const plan = await planGateway();
  const resource = `${plan.origin}/mcp`;
  const idp = await startIdp({ mode: 'strict', issuer: () => plan.publicBaseUrl, resources: [resource], ...idpOptions });
  let gw;
  try {
    gw = await startGateway(plan, { upstream: idp.origin, ...gatewayOptions });
  } catch (e) {
    await idp.close();
    removeDir(plan.dir);
    throw e;
  }
  return {
    plan, idp, gw, resource,
    connector: () => new Connector(plan.publicBaseUrl, { resource }),
    async close() {
      await gw.stop();
      await idp.close();
      removeDir(plan.dir);
    },
  };
}

/** The IdP alone (issuer = its own origin). */
async function alone(idpOptions) {
  let resource;
  const idp = await startIdp({ mode: 'strict', resources: (port) => [resource = `http://127.0.0.1:${port}/mcp`], ...idpOptions });
  return { idp, connector: () => new Connector(idp.issuer, { resource }), close: () => idp.close() };
}

const hasResource = (raw) => new URLSearchParams(raw).has('resource');

describe('an IdP that refuses the resource parameter (Entra-like)', () => {
  let direct;
  let s;
  before(async () => {
    direct = await alone({ refuseResource: true });
    s = await behindGateway({ refuseResource: true }, { extraYaml: ['compat: {resource-parameter: strip}'] });
  });
  after(async () => {
    await direct?.close();
    await s?.close();
  });

  scenario('straight at the IdP, the SDK request (with resource) is refused', () => undefined, async () => {
    const host = direct.connector();
    await host.discover();
    await host.register();
    const outcome = await host.connect({ scope: SEED_SCOPE });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.stage, 'authorize');
    assert.equal(outcome.status, 400);
    assert.ok(outcome.request.authorizationUrl.searchParams.has('resource'), 'the SDK sent resource');
  });

  for (const via of ['get', 'post', 'par']) {
    scenario(`through scopegate with strip, ${via}: tokens; the IdP never sees resource, every other byte as sent`, () => s, async () => {
      const host = s.connector();
      await host.discover();
      await host.register({ authMethod: via === 'par' ? 'none' : 'client_secret_basic' });
      const outcome = await host.connect({ scope: FIRST_CONNECT_SCOPE, via });
      assert.equal(outcome.ok, true, `the flow ended with ${JSON.stringify({ ...outcome, request: undefined, flow: undefined })}`);
      assert.deepEqual(scopesOf(outcome.tokens.scope), scopesOf(FIRST_CONNECT_SCOPE));
      assert.equal(typeof outcome.tokens.refresh_token, 'string');
      const sent = outcome.request.authorizationUrl.searchParams;
      assert.ok(sent.has('resource'), 'the SDK sent resource');
      const expected = new URLSearchParams([...sent].filter(([k]) => k !== 'resource')).toString();
      if (via === 'get') {
        assert.equal(lastAt(s.idp, 'authorization'), expected);
      } else if (via === 'post') {
        assert.equal(lastAt(s.idp, 'authorization', 'POST'), expected);
      } else {
        assert.equal(lastAt(s.idp, 'pushed_authorization_request', 'POST'), expected);
      }
      const token = lastAt(s.idp, 'token', 'POST');
      assert.equal(hasResource(token), false, 'the token request reached the IdP without resource');
      assert.ok(new URLSearchParams(token).has('code_verifier'));
      // and a refresh (the SDK sends resource there too)
      const refreshed = await host.refresh();
      assert.equal(typeof refreshed.access_token, 'string');
      assert.equal(hasResource(lastAt(s.idp, 'token', 'POST')), false);
    });
  }
});

describe('an IdP that grants a client registered without scope nothing', () => {
  let direct;
  let s;
  before(async () => {
    direct = await alone({ scopelessClientsGetNothing: true });
    s = await behindGateway({ scopelessClientsGetNothing: true }, {
      scopeYaml: [`  default: "${SEED_SCOPE}"`, '  fill-registration: true'],
    });
  });
  after(async () => {
    await direct?.close();
    await s?.close();
  });

  scenario('straight at the IdP, a client registered without scope cannot get the API scopes', () => undefined, async () => {
    const host = direct.connector();
    await host.discover();
    const client = await host.register();
    assert.equal(client.scope, 'openid');
    const outcome = await host.connect({ scope: SEED_SCOPE });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error, 'invalid_scope');
  });

  scenario('through scopegate with fill-registration, the registration carries the scope and the flow gets it', () => s, async () => {
    const host = s.connector();
    await host.discover();
    const client = await host.register();
    const sent = s.idp.requestsTo('registration', 'POST').at(-1);
    assert.equal(JSON.parse(sent.body).scope, SEED_SCOPE, 'the IdP received the registration with the scope');
    assert.deepEqual(scopesOf(client.scope), scopesOf(SEED_SCOPE), 'the IdP echoes it to the client');
    const stored = await s.gw.storedClient(client.client_id);
    assert.deepEqual(scopesOf(stored.registration.scope), scopesOf(SEED_SCOPE), 'the captured registration carries it');
    assert.match(await s.gw.metrics(), /scopegate_registration_scopes_filled_total\{family="chatgpt.com",source="default"\} 1\.0/);

    const outcome = await host.connect({ scope: SEED_SCOPE });
    assert.equal(outcome.ok, true, `the flow ended with ${JSON.stringify({ ...outcome, request: undefined, flow: undefined })}`);
    assert.deepEqual(scopesOf(outcome.tokens.scope), scopesOf(SEED_SCOPE));
    // a reconnect without scope gets the registered scope from scopegate too
    host.tokens = undefined;
    const reconnect = await host.connect({});
    assert.equal(reconnect.ok, true);
    assert.deepEqual(scopesOf(reconnect.tokens.scope), scopesOf(SEED_SCOPE));
  });
});
