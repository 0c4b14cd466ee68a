// An issuer with a path (http://gateway/tenant-a): the SDK looks for metadata with RFC 8414
// path insertion (/.well-known/oauth-authorization-server/tenant-a, then
// /.well-known/openid-configuration/tenant-a, then /tenant-a/.well-known/openid-configuration).
// The IdP itself serves only the last form; scopegate serves the inserted forms from its cache.
// upstream.rewrite-host is on, so only scopegate's X-Forwarded-* headers tell the IdP its
// public origin.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import {
  RECONNECT_APPENDED,
  FIRST_CONNECT_SCOPE, SEED_SCOPE, appended, assertApiTokens, assertSeedFailure, directly, lastAt, scenario, sdkQuery,
  throughGateway, untilLearned,
} from '../lib/fixture.js';

const TENANT = '/tenant-a';

describe('issuer with a path, strict IdP, through scopegate', () => {
  let s;
  before(async () => {
    s = await throughGateway({ mode: 'strict', issuerPath: TENANT, rewriteHost: true });
  });
  after(() => s?.close());

  scenario('metadata at the RFC 8414 path-inserted location names the tenant issuer', () => s, async () => {
    const inserted = await fetch(`${s.plan.origin}/.well-known/openid-configuration${TENANT}`);
    assert.equal(inserted.status, 200);
    const md = await inserted.json();
    assert.equal(md.issuer, `${s.plan.origin}${TENANT}`);
    assert.equal(md.authorization_endpoint, `${s.plan.origin}${TENANT}/oauth/authorize`);
    assert.equal(md.registration_endpoint, `${s.plan.origin}${TENANT}/oauth/register`);
    // The IdP was never asked at that location: it answers only under its mount path.
    assert.equal(s.idp.received.some((r) => r.path === `/.well-known/openid-configuration${TENANT}`), false);
    const host = s.connector();
    const found = await host.discover();
    assert.equal(host.discoveryTrail.at(-1), `200 /.well-known/openid-configuration${TENANT}`, host.discoveryTrail.join(', '));
    for (const key of ['issuer', 'authorization_endpoint', 'token_endpoint', 'registration_endpoint']) {
      assert.equal(found[key], md[key], `the SDK's discovery: ${key}`);
    }
  });

  scenario('first connect, then reconnect without scope', () => s, async () => {
    const host = s.connector();
    await host.discover();
    await host.register();
    await assertApiTokens(s, await host.connect({ scope: FIRST_CONNECT_SCOPE }), { refreshToken: true });
    await untilLearned(s, host.client.client_id);
    host.tokens = undefined;
    const reconnect = await host.connect({});
    await assertApiTokens(s, reconnect, {});
    assert.equal(lastAt(s.idp, 'authorization'), sdkQuery(reconnect) + RECONNECT_APPENDED);
    const last = s.idp.requestsTo('authorization').at(-1);
    assert.equal(last.path, `${TENANT}/oauth/authorize`);
    assert.equal(last.host, `127.0.0.1:${s.idp.port}`, 'rewrite-host: the IdP saw its own Host');
  });
});

describe('issuer with a path, strict IdP, directly (no scopegate)', () => {
  let d;
  before(async () => {
    d = await directly({ mode: 'strict', mountPath: TENANT });
  });
  after(() => d?.close());

  scenario('reconnect without scope FAILS', () => d, async () => {
    const host = d.connector();
    const md = await host.discover();
    // The IdP itself answers only the OIDC Discovery form, the SDK's third try.
    assert.equal(host.discoveryTrail.at(-1), `200 ${TENANT}/.well-known/openid-configuration`, host.discoveryTrail.join(', '));
    assert.equal(md.issuer, `${d.idp.origin}${TENANT}`);
    await host.register();
    await assertApiTokens(d, await host.connect({ scope: FIRST_CONNECT_SCOPE }), { refreshToken: true });
    host.tokens = undefined;
    assertSeedFailure('strict', await host.connect({}));
  });
});
