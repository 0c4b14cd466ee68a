// resources[].challenge: an MCP server (the SDK's streamable HTTP server) behind scopegate as a
// `routes` entry answers 401 with a bare `WWW-Authenticate: Bearer`. Its protected-resource
// metadata is published by scopegate for the resource http://gateway/api, at
// /.well-known/oauth-protected-resource/api: not where the SDK guesses for the server URL
// http://gateway/api/mcp (/.well-known/oauth-protected-resource/api/mcp, then the root form), and
// the issuer lives under /tenant-a. Only the challenge scopegate completes leads the SDK's client
// to the resource's metadata, hence to the tenant's authorization server, the scope to ask for and
// the resource indicator. Without it, the SDK's last resort (the server's origin as authorization
// server, which scopegate's root discovery document answers) asks with neither scope nor resource,
// and the strict IdP refuses.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { REDIRECT_URI, userAgent } from '../lib/client.js';
import { eventually, planGateway, removeDir, startGateway } from '../lib/gateway.js';
import { scenario, scopesOf } from '../lib/fixture.js';
import { startIdp } from '../lib/idp.js';

const TENANT = '/tenant-a';
const RESOURCE_SCOPES = ['worker:read', 'people:read'];

/**
 * The MCP server: the SDK's stateless streamable HTTP transport behind a bearer check against the
 * IdP's own token store (same process). No or an unknown token: 401 with a bare challenge.
 */
async function startMcpServer(idp) {
  const challenges = [];
  const server = http.createServer(async (req, res) => {
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const at = token ? await idp.provider.AccessToken.find(token) : undefined;
    if (!at) {
      challenges.push(req.url);
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer', 'Content-Type': 'application/json' });
      res.end('{"error":"unauthorized"}');
      return;
    }
    const mcp = new McpServer({ name: 'challenge-interop', version: '1.0.0' });
    mcp.tool('whoami', async () => ({ content: [{ type: 'text', text: `${at.accountId} ${at.scope}` }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      mcp.close();
    });
    await mcp.connect(transport);
    const chunks = [];
    for await (const c of req) {
      chunks.push(c);
    }
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    await transport.handleRequest(req, res, body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    challenges,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

/** An MCP host's OAuthClientProvider: keeps everything in memory, hands the authorization URL to the test. */
class HostProvider {
  constructor() {
    this.authorizationUrls = [];
  }

  get redirectUrl() {
    return REDIRECT_URI;
  }

  get clientMetadata() {
    return {
      client_name: 'challenge interop host',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation() {
    return this.client;
  }

  saveClientInformation(info) {
    this.client = info;
  }

  tokens() {
    return this.savedTokens;
  }

  saveTokens(tokens) {
    this.savedTokens = tokens;
  }

  redirectToAuthorization(url) {
    this.authorizationUrls.push(new URL(url));
  }

  saveCodeVerifier(v) {
    this.verifier = v;
  }

  codeVerifier() {
    return this.verifier;
  }
}

async function setUp({ challenge }) {
  const plan = await planGateway({ issuerPath: TENANT });
  const resource = `${plan.origin}/api`;
  const idp = await startIdp({ mode: 'strict', issuer: () => plan.publicBaseUrl, mountPath: TENANT, resources: [resource] });
  const mcp = await startMcpServer(idp);
  const gw = await startGateway(plan, {
    upstream: idp.origin,
    extraYaml: [
      'routes:',
      `  - {prefix: /api, url: "http://127.0.0.1:${mcp.port}"}`,
      'resources:',
      `  - {resource: "${resource}", scopes-supported: [${RESOURCE_SCOPES.join(', ')}], challenge: ${challenge}}`,
    ],
  });
  return {
    plan, idp, mcp, gw, resource,
    serverUrl: new URL(`${plan.origin}/api/mcp`),
    async close() {
      await gw.stop();
      await mcp.close();
      await idp.close();
      removeDir(plan.dir);
    },
  };
}

/** Connects an SDK client through the gateway; what the host ended with (tools, or the error). */
async function connect(s, provider) {
  const client = new Client({ name: 'challenge-host', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(s.serverUrl, { authProvider: provider });
  try {
    await client.connect(transport);
    const tools = await client.listTools();
    const whoami = await client.callTool({ name: 'whoami', arguments: {} });
    await client.close();
    return { ok: true, tools, whoami, transport };
  } catch (error) {
    return { ok: false, error, transport };
  }
}

describe('resources[].challenge: true — the SDK finds the authorization server through the challenge', () => {
  let s;
  before(async () => {
    s = await setUp({ challenge: true });
  });
  after(() => s?.close());

  scenario('first connect: 401, discovery, registration, authorization with the challenge scope, tokens, tools', () => s, async () => {
    // What the MCP server sent, and what reached the client through scopegate.
    const raw = await fetch(s.serverUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await raw.body?.cancel();
    assert.equal(raw.status, 401);
    assert.equal(raw.headers.get('www-authenticate'),
      `Bearer resource_metadata="${s.plan.origin}/.well-known/oauth-protected-resource/api", scope="${RESOURCE_SCOPES.join(' ')}"`);

    const provider = new HostProvider();
    const first = await connect(s, provider);
    assert.equal(first.ok, false);
    assert.ok(first.error instanceof UnauthorizedError, `the SDK stops to send the user to the IdP: ${first.error}`);
    assert.equal(provider.authorizationUrls.length, 1, 'the SDK built an authorization URL');
    const authUrl = provider.authorizationUrls[0];
    assert.equal(authUrl.origin + authUrl.pathname, `${s.plan.publicBaseUrl}/oauth/authorize`, 'the tenant issuer\'s endpoint');
    assert.equal(authUrl.searchParams.get('scope'), RESOURCE_SCOPES.join(' '), 'the scope of the challenge');
    assert.equal(authUrl.searchParams.get('resource'), s.resource);
    assert.ok(provider.client?.client_id, 'registered through scopegate');

    const flow = await userAgent(authUrl);
    assert.ok(flow.callback, `the IdP redirected back: ${flow.trail} ${flow.status} ${flow.body}`);
    await first.transport.finishAuth(flow.callback.searchParams.get('code'));
    assert.deepEqual(scopesOf(provider.savedTokens.scope), scopesOf(RESOURCE_SCOPES.join(' ')), 'granted scopes');

    const second = await connect(s, provider);
    assert.equal(second.ok, true, `connected with the token: ${second.error}`);
    assert.deepEqual(second.tools.tools.map((t) => t.name), ['whoami']);
    assert.match(second.whoami.content[0].text, /^alice /);
    // The SDK fetched the document the challenge named (scopegate's access log, flushed within a second).
    await eventually(() => s.gw.log().includes('"GET /.well-known/oauth-protected-resource/api" 200'),
      { what: 'the resource metadata named by the challenge was fetched' });
    // The IdP received exactly what the SDK built (scopegate added nothing: the scope was there).
    const received = s.idp.requestsTo('authorization').at(-1);
    assert.equal(received.query, authUrl.search.slice(1));
  });
});

describe('resources[].challenge: false (the default) — the bare challenge leads nowhere', () => {
  let s;
  before(async () => {
    s = await setUp({ challenge: false });
  });
  after(() => s?.close());

  scenario('the SDK finds no resource metadata, asks without scope and resource, and the IdP refuses', () => s, async () => {
    const raw = await fetch(s.serverUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await raw.body?.cancel();
    assert.equal(raw.headers.get('www-authenticate'), 'Bearer', 'relayed as the MCP server sent it');
    const provider = new HostProvider();
    const outcome = await connect(s, provider);
    assert.equal(outcome.ok, false);
    // Both of the SDK's guesses for the protected-resource metadata miss (404): it falls back to
    // the server's origin as authorization server, which scopegate's root discovery document
    // answers, and asks for neither a scope nor the resource.
    assert.equal(provider.authorizationUrls.length, 1, `${outcome.error}`);
    const authUrl = provider.authorizationUrls[0];
    assert.equal(authUrl.searchParams.has('scope'), false);
    assert.equal(authUrl.searchParams.has('resource'), false);
    const flow = await userAgent(authUrl);
    assert.equal(flow.callback?.searchParams.get('error'), 'invalid_scope', `${flow.trail} ${flow.status}`);
  });
});
