// Issue 13: a reconnect that reaches a freshly restarted gateway before its first IdP-metadata
// fetch has finished. ChatGPT reconnects without `scope` whenever the user clicks Connect,
// which may be the instant scopegate comes back after a crash: kill -9, start again on the
// same config and store, and send the reconnect as soon as the proxy port accepts a TCP
// connection (no /readyz, no log line), ten times in a row. The strict IdP answers its
// discovery documents late, so every reconnect lands inside scopegate's first metadata fetch.

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe } from 'node:test';
import {
  API_SCOPES, ROUTES, FIRST_CONNECT_SCOPE, appended, assertApiTokens, scenario, scopesOf, sdkQuery, throughGateway, untilLearned,
} from '../lib/fixture.js';
import { eventually, untilAccepting } from '../lib/gateway.js';

const ROUNDS = 10;
/** How late the IdP answers discovery, so every reconnect lands inside scopegate's first metadata fetch. */
const DISCOVERY_DELAY_MS = 500;

describe('gateway killed and restarted, reconnect the instant its port accepts, strict IdP', () => {
  let s;
  before(async () => {
    s = await throughGateway({ mode: 'strict' });
  });
  after(() => s?.close());

  scenario(`${ROUNDS} times: kill -9, restart, reconnect without scope and a registration as soon as the port accepts `
      + `(IdP discovery ${DISCOVERY_DELAY_MS} ms late)`, () => s, async (t) => {
    const host = s.connector();
    await host.discover();
    await host.register(); // no scope registered: what scopegate learned is all it has
    await assertApiTokens(s, await host.connect({ scope: FIRST_CONNECT_SCOPE }), { refreshToken: true });
    await untilLearned(s, host.client.client_id);
    s.idp.delayDiscovery(DISCOVERY_DELAY_MS);
    const rounds = [];
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const { signal } = await s.gw.crash();
        assert.equal(signal, 'SIGKILL');
        // Built before the restart, so both go out with nothing left to compute.
        host.tokens = undefined;
        const request = await host.authorizationRequest({});
        const newcomer = s.connector();
        newcomer.metadata = host.metadata;
        const mark = s.idp.received.length;
        const gw = await s.restart({ waitReady: false }); // same helper, config and store; no /readyz
        const { acceptedAt, attempts } = await untilAccepting(gw);
        const sentAt = performance.now();
        const [reconnect, registration] = await Promise.all([
          host.connect({ request }).catch((e) => ({ ok: false, stage: 'exception', error: String(e?.message ?? e), request })),
          newcomer.register().then((c) => ({ clientId: c.client_id }), (e) => ({ error: String(e?.message ?? e) })),
        ]);
        rounds.push(await judgeRound(s, {
          round, gw, acceptedAt, attempts, sentAt, mark, reconnect, registration,
        }));
      }
    } finally {
      s.idp.delayDiscovery(0);
    }
    for (const r of rounds) {
      t.diagnostic(r.summary);
    }
    const failed = rounds.filter((r) => r.problems.length > 0);
    assert.equal(failed.length, 0, `${failed.length} of ${ROUNDS} rounds failed:\n`
        + failed.map((r) => `round ${r.round}: ${r.problems.join('; ')}`).join('\n'));
    // Guards the test itself: a reconnect sent after scopegate had its metadata proves nothing.
    const late = rounds.filter((r) => !r.raced);
    assert.equal(late.length, 0, `rounds ${late.map((r) => r.round)}: the reconnect went out after scopegate `
        + 'had the IdP\'s metadata, so the start-up window was not exercised');
  }, { timeout: 180_000 });
});

/**
 * The IdP received the SDK's query byte for byte plus what scopegate appends: `&scope=` with
 * every API scope (and `&prompt=consent` exactly when that scope holds offline_access). Which
 * scope exactly is what scopegate holds for the client at that moment: the first connect's
 * (RECONNECT_APPENDED) until a scope-less reconnect's code exchange teaches it another.
 */
function scopeAdded(sdk, received) {
  if (!received.startsWith(sdk)) {
    return false;
  }
  const m = /^&scope=([^&]+)(&prompt=consent)?$/.exec(received.slice(sdk.length));
  if (!m) {
    return false;
  }
  const scope = decodeURIComponent(m[1]);
  return `&scope=${m[1]}` === appended(scope)
    && API_SCOPES.every((x) => scopesOf(scope).includes(x))
    && scopesOf(scope).includes('offline_access') === Boolean(m[2]);
}

/**
 * One round's evidence: what the IdP received at its authorization endpoint and what it
 * answered, the host's outcome, whether the registration sent at the same instant was stored,
 * and whether the reconnect was sent before scopegate's first metadata fetch had its answer.
 */
async function judgeRound(s, { round, gw, acceptedAt, attempts, sentAt, mark, reconnect, registration }) {
  const problems = [];
  const since = s.idp.received.slice(mark);
  const authorizations = since.filter((r) => r.method === 'GET' && r.path === ROUTES.authorization);
  if (authorizations.length !== 1) {
    problems.push(`the IdP received ${authorizations.length} authorization requests`);
  }
  const received = authorizations[0]?.query;
  const scope = received === undefined ? 'nothing'
    : new URLSearchParams(received).has('scope') ? `scope=${JSON.stringify(new URLSearchParams(received).get('scope'))}` : 'no scope';
  if (received !== undefined && !scopeAdded(sdkQuery(reconnect), received)) {
    problems.push(`the IdP received ${scope} (raw query ${received === sdkQuery(reconnect) ? 'exactly the SDK\'s, nothing added' : received})`);
  }
  if (reconnect.error === 'invalid_scope') {
    problems.push(`the IdP answered invalid_scope (${reconnect.errorDescription})`);
  }
  let outcome = 'tokens';
  try {
    await assertApiTokens(s, reconnect, {});
  } catch (e) {
    outcome = reconnect.ok ? `tokens, but ${e.message.split('\n')[0]}` : `${reconnect.stage}: ${reconnect.error ?? reconnect.status}`;
    if (reconnect.error !== 'invalid_scope') {
      problems.push(`the host ended without the API tokens (${outcome})`);
    }
  }
  let captured = false;
  if (registration.clientId) {
    captured = await eventually(async () => {
      try {
        return (await gw.storedClient(registration.clientId))?.registration?.client_id === registration.clientId;
      } catch {
        return false; // admin port not listening yet
      }
    }, { timeoutMs: 500, what: 'registration stored' }).catch(() => false);
    if (!captured) {
      problems.push(`registration ${registration.clientId} (201 from the IdP) not at /admin/clients/{id}`);
    }
  } else {
    problems.push(`registration failed: ${registration.error}`);
  }
  // When scopegate could first have known the endpoints: the IdP's first 200 on a well-known
  // document of this process (none yet: the fetch is still waiting).
  const metadataAt = Math.min(...since.filter((r) => r.path.includes('/.well-known/') && r.status === 200)
    .map((r) => r.answeredAt));
  const raced = sentAt < metadataAt;
  const ms = (x) => `${Math.round(x)} ms`;
  const summary = `round ${round}: port accepted ${ms(acceptedAt - gw.spawnedAt)} after spawn (${attempts} connects); `
      + `reconnect sent ${ms(sentAt - acceptedAt)} later, `
      + (!Number.isFinite(metadataAt) ? 'while scopegate\'s metadata fetch was (still) unanswered'
        : raced ? `${ms(metadataAt - sentAt)} before the IdP answered scopegate's metadata fetch`
          : `${ms(sentAt - metadataAt)} AFTER the IdP answered scopegate's metadata fetch`)
      + `; the IdP received ${scope}; `
      + `host: ${outcome}; registration ${captured ? 'stored' : 'NOT stored'}`;
  return { round, problems, raced, summary };
}
