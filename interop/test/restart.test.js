// The reconnect "may come days later, after restarts and redeploys": the gateway is stopped
// (SIGTERM) or killed (SIGKILL) between registration and reconnect, then started again on the
// same config and store. The IdP (and the host's client information) live on.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import {
  RECONNECT_APPENDED,
  FIRST_CONNECT_SCOPE, SEED_SCOPE, appended, assertApiTokens, lastAt, scenario, sdkQuery, throughGateway,
  untilLearned,
} from '../lib/fixture.js';

for (const mode of ['lenient', 'strict']) {
  describe(`gateway restarts, ${mode} IdP`, () => {
    let s;
    before(async () => {
      s = await throughGateway({ mode });
    });
    after(() => s?.close());

    scenario('kill -9 right after registration, restart, connect without scope', () => s, async () => {
      const host = s.connector();
      await host.discover();
      await host.register({ scope: SEED_SCOPE });
      // The 201 reached the host: the registration is on disk, whatever happens next.
      const { signal } = await s.gw.crash();
      assert.equal(signal, 'SIGKILL');
      await s.restart();
      const outcome = await host.connect({});
      await assertApiTokens(s, outcome, {});
      assert.equal(lastAt(s.idp, 'authorization'), sdkQuery(outcome) + appended(SEED_SCOPE));
    });

    scenario('stop (SIGTERM) after registration and first connect, restart, reconnect without scope', () => s, async () => {
      const host = s.connector();
      await host.discover();
      await host.register(); // no scope registered: only what scopegate learned can help
      await assertApiTokens(s, await host.connect({ scope: FIRST_CONNECT_SCOPE }), { refreshToken: true });
      await untilLearned(s, host.client.client_id);
      const { code } = await s.gw.stop();
      assert.notEqual(code, null, 'exited by itself on SIGTERM');
      await s.restart();
      host.tokens = undefined;
      const reconnect = await host.connect({});
      await assertApiTokens(s, reconnect, {});
      assert.equal(lastAt(s.idp, 'authorization'), sdkQuery(reconnect) + RECONNECT_APPENDED);
    });

    scenario('a refresh token from before the restart still works through the restarted gateway', () => s, async () => {
      const host = s.connector();
      await host.discover();
      await host.register({ scope: FIRST_CONNECT_SCOPE });
      await assertApiTokens(s, await host.connect({ scope: FIRST_CONNECT_SCOPE }), { refreshToken: true });
      await s.gw.crash();
      await s.restart();
      const refreshed = await host.refresh();
      assert.equal(refreshed.scope, SEED_SCOPE);
    });
  });
}
