// scopegate as a child process: the built jar, a config file this suite writes, readiness
// through the admin port's /readyz (or, for the tests that race the start, only the proxy port
// accepting TCP), and stop (SIGTERM) / crash (SIGKILL) / restart on the same ports with the
// same store.

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..');
export const JAR = process.env.SCOPEGATE_JAR ?? path.join(REPO, 'gateway', 'target', 'scopegate.jar');

// Gateways still running when this test process ends (a crash, an uncaught error) die with it.
const running = new Set();
process.once('exit', () => {
  for (const child of running) {
    child.kill('SIGKILL');
  }
});

/**
 * A port that was free a moment ago on 127.0.0.1 (the gateway needs its URL before it starts,
 * and keeps it across restarts). Picked below Linux's ephemeral range (32768-60999), so that
 * no outgoing connection or port-0 listener takes it while the gateway is down.
 */
export async function freePort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = 20000 + Math.floor(Math.random() * 12000);
    const server = net.createServer();
    const bound = await new Promise((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(candidate, '127.0.0.1', () => resolve(true));
    });
    if (bound) {
      await new Promise((resolve) => server.close(resolve));
      return candidate;
    }
  }
  throw new Error('no free port found in 20000-31999');
}

/**
 * Reserves ports and a working directory; the gateway's URLs are known before the IdP (whose
 * issuer is the gateway) and the gateway start.
 *
 * @param {object} o
 * @param {string} [o.issuerPath] path of public-base-url ('' or e.g. '/tenant-a')
 */
export async function planGateway({ issuerPath = '' } = {}) {
  const port = await freePort();
  let adminPort = await freePort();
  while (adminPort === port) {
    adminPort = await freePort();
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scopegate-interop-'));
  const origin = `http://127.0.0.1:${port}`;
  return { port, adminPort, dir, origin, publicBaseUrl: origin + issuerPath, admin: `http://127.0.0.1:${adminPort}` };
}

/**
 * Writes the config and starts the jar; resolves once /readyz answers 200 (IdP metadata fetched).
 *
 * @param {object} plan from planGateway
 * @param {object} o
 * @param {string} o.upstream the IdP's origin
 * @param {'forward'|'reject'} [o.onUnresolved]
 * @param {boolean} [o.rewriteHost] upstream.rewrite-host
 * @param {string[]} [o.scopeLines] more lines under `scope:` (each indented by two spaces)
 * @param {string[]} [o.topLines] more top-level lines (e.g. `compat: {add-iss: true}`)
 * @param {boolean} [o.waitReady] false: resolve as soon as the process is spawned (the caller
 *     waits for what it needs, e.g. untilAccepting)
 */
export async function startGateway(plan, {
  upstream, onUnresolved = 'forward', rewriteHost = false, waitReady = true, scopeLines = [], topLines = [],
}) {
  if (!existsSync(JAR)) {
    throw new Error(`${JAR} is missing: build it with mvn -B -q -o package -DskipTests`);
  }
  const configFile = path.join(plan.dir, 'scopegate.yaml');
  writeFileSync(configFile, [
    `listen: {host: 127.0.0.1, port: ${plan.port}, drain-timeout: 1s}`,
    `admin: {host: 127.0.0.1, port: ${plan.adminPort}, token: ""}`,
    `public-base-url: "${plan.publicBaseUrl}"`,
    `upstream: {url: "${upstream}", connect-timeout: 2s, response-timeout: 10s, rewrite-host: ${rewriteHost}}`,
    'metadata: {refresh: 5m}',
    'scope:',
    `  on-unresolved: ${onUnresolved}`,
    ...scopeLines,
    '  families:',
    '    - {name: chatgpt.com, redirect-hosts: [chatgpt.com]}',
    `store: {type: embedded, path: "${path.join(plan.dir, 'data')}"}`,
    'logging: {access: true, json: false}',
    ...topLines,
    '',
  ].join('\n'));
  const logFile = path.join(plan.dir, 'scopegate.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const spawnedAt = performance.now();
  const child = spawn('java', ['-Xms64m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
    '-jar', JAR, '--config', configFile], { cwd: plan.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    running.delete(child);
    resolve({ code, signal });
  }));
  const gateway = {
    ...plan,
    configFile,
    logFile,
    child,
    /** performance.now() when the JVM was spawned. */
    spawnedAt,
    exited,
    /** SIGTERM (graceful) and wait for the exit. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
      }
      const result = await exited;
      log.end();
      return result;
    },
    /** SIGKILL: no shutdown hook, no flush. */
    async crash() {
      child.kill('SIGKILL');
      const result = await exited;
      log.end();
      return result;
    },
    log() {
      return existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    },
    /** GET /admin/clients/{id}: what scopegate stored for a client, or null. */
    async storedClient(clientId) {
      const res = await fetch(`${plan.admin}/admin/clients/${encodeURIComponent(clientId)}`);
      return res.status === 200 ? res.json() : null;
    },
    async explain(clientId) {
      const res = await fetch(`${plan.admin}/admin/explain?client_id=${encodeURIComponent(clientId)}`);
      return res.text();
    },
    async metrics() {
      return (await fetch(`${plan.admin}/metrics`)).text();
    },
  };
  if (waitReady) {
    await waitUntilReady(gateway);
  }
  return gateway;
}

/**
 * Polls the proxy port with plain TCP connects, every everyMs, until one is accepted (the
 * listener is bound); nothing else is asked of the gateway (no /readyz, no log line). Resolves
 * with performance.now() at the accepted connect and the number of connects tried.
 */
export async function untilAccepting(gateway, { everyMs = 5, timeoutMs = 30_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (let attempts = 1; ; attempts++) {
    if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) {
      throw new Error(`scopegate exited during start (${gateway.child.exitCode ?? gateway.child.signalCode}):\n${gateway.log()}`);
    }
    const accepted = await new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: gateway.port });
      socket.setTimeout(1000, () => socket.destroy(new Error('connect timed out')));
      socket.once('connect', () => {
        const at = performance.now();
        socket.destroy();
        resolve(at);
      });
      socket.once('error', () => {
        socket.destroy();
        resolve(null);
      });
    });
    if (accepted !== null) {
      return { acceptedAt: accepted, attempts };
    }
    if (Date.now() > deadline) {
      await gateway.crash();
      throw new Error(`scopegate's port ${gateway.port} not accepting after ${timeoutMs} ms:\n${gateway.log()}`);
    }
    await sleep(everyMs);
  }
}

async function waitUntilReady(gateway, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) {
      throw new Error(`scopegate exited during start (${gateway.child.exitCode ?? gateway.child.signalCode}):\n${gateway.log()}`);
    }
    try {
      const res = await fetch(`${gateway.admin}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200) {
        return;
      }
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await gateway.crash();
  throw new Error(`scopegate not ready after ${timeoutMs} ms:\n${gateway.log()}`);
}

/** Polls until fn() is truthy (bounded); returns its value. */
export async function eventually(fn, { timeoutMs = 10_000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not met within ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}
