// The "legacy IdP": panva's oidc-provider, configured like the seed's authorization server.
//
// Dynamic Client Registration is open, PKCE (S256) is required for every client, PAR and
// resource indicators are on, and the seed's API scopes are the provider's scopes. Login and
// consent run through the provider's own interaction API (interactionDetails /
// interactionFinished) behind small JSON endpoints that the test's user agent posts to, so no
// browser is needed and a test can stop at the consent step (abandoned consent).
//
// Two modes:
//   lenient  oidc-provider's default: a request without `scope` is accepted, and the grant and
//            the tokens carry no scope at all (useless to the MCP server).
//   strict   like the seed's IdP: a request without `scope` is refused with invalid_scope
//            (RFC 6749 §3.3), through the provider's own extraParams validation hook.
//
// Every request the provider receives is recorded raw (method, path, query, form body) before
// the provider sees it, so tests can assert on exactly what reached the IdP; with when it
// arrived and when (and with which status) it was answered.
//
// Two optional behaviours of real IdPs MCP clients meet (both off by default):
//   refuseResource             like Entra (AADSTS901002): an authorization, PAR or token request
//                              carrying an RFC 8707 `resource` parameter is refused (400
//                              invalid_request), and the provider has no resource indicators.
//   scopelessClientsGetNothing like IdPs that grant a client only what it registered: a client
//                              registered without `scope` may request nothing but `openid` (the
//                              provider is handed the registration with scope "openid").
//
// delayDiscovery(ms) makes the well-known (discovery) responses slow, as a legacy IdP's may be:
// a test can then act while scopegate's first metadata fetch is still waiting for its answer.

import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Provider, { errors } from 'oidc-provider';

export const API_SCOPES = ['worker:read', 'time-off:read', 'time-off:write', 'contracts:read', 'people:read'];
export const SEED_SCOPE = API_SCOPES.join(' ');
export const ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  registration: '/oauth/register',
  pushed_authorization_request: '/oauth/par',
  jwks: '/oauth/jwks',
  revocation: '/oauth/revoke',
  introspection: '/oauth/introspect',
  userinfo: '/oauth/userinfo',
  end_session: '/oauth/logout',
};
export const ACCOUNT = 'alice';

let signingKeys;

/** One RSA and one EC signing key per test process (oidc-provider's dev keys print a warning). */
function jwks() {
  if (!signingKeys) {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    signingKeys = { keys: [{ ...rsa, kid: 'rsa-1', use: 'sig' }, { ...ec, kid: 'ec-1', use: 'sig' }] };
  }
  return signingKeys;
}

/**
 * Starts the IdP on a free 127.0.0.1 port.
 *
 * @param {object} opts
 * @param {'lenient'|'strict'} opts.mode
 * @param {(port: number) => string} [opts.issuer] the issuer for a given IdP port; default: the
 *     IdP's own origin (direct runs). Through scopegate: the gateway's public URL.
 * @param {string} [opts.mountPath] path prefix the provider is mounted under (issuer with a path)
 * @param {string[]} [opts.resources] resource indicators (RFC 8707) the IdP serves tokens for;
 *     called with the IdP's port when a function
 * @param {boolean} [opts.refuseResource] refuse requests carrying `resource` (Entra-like)
 * @param {boolean} [opts.scopelessClientsGetNothing] a client registered without scope may only ask for openid
 */
export async function startIdp({ mode, issuer, mountPath = '', resources, refuseResource = false,
  scopelessClientsGetNothing = false }) {
  if (mode !== 'lenient' && mode !== 'strict') {
    throw new Error(`unknown IdP mode ${mode}`);
  }
  const received = [];
  let discoveryDelayMs = 0;
  let handler = (req, res) => {
    res.statusCode = 503;
    res.end('starting');
  };
  const server = http.createServer((req, res) => handler(req, res));
  server.keepAliveTimeout = 65_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  const origin = `http://127.0.0.1:${port}`;
  const issuerUrl = issuer ? issuer(port) : `${origin}${mountPath}`;
  const resourceList = typeof resources === 'function' ? resources(port) : resources ?? [];

  const provider = new Provider(issuerUrl, {
    routes: ROUTES,
    jwks: jwks(),
    cookies: {
      keys: [randomBytes(32).toString('hex')],
      // POST authorization requests need the session cookie cross-site (oidc-provider insists).
      long: { httpOnly: true, sameSite: 'none' },
    },
    enableHttpPostMethods: true,
    scopes: ['openid', 'offline_access', ...API_SCOPES],
    claims: { openid: ['sub'] },
    pkce: { required: () => true },
    findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: !refuseResource,
        defaultResource: (ctx, client, oneOf) => oneOf,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator) => {
          if (!resourceList.includes(indicator)) {
            throw new errors.InvalidTarget();
          }
          return { scope: SEED_SCOPE, audience: indicator, accessTokenFormat: 'opaque' };
        },
      },
    },
    // The seed's IdP: no default scope; an authorization or PAR request without one is refused.
    extraParams: mode === 'strict' ? {
      scope(ctx, value) {
        if (!value || !String(value).trim()) {
          throw new errors.InvalidScope('the scope parameter is required');
        }
      },
    } : [],
    interactions: {
      url: (ctx, interaction) => `${mountPath}/interaction/${interaction.uid}`,
    },
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, RefreshToken: 86400, Interaction: 600, Session: 3600, Grant: 86400 },
  });
  // scopegate sends X-Forwarded-Host/-Proto for public-base-url: believe them, as behind any proxy.
  provider.proxy = true;
  const callback = provider.callback();

  handler = async (req, res) => {
    try {
      const at = performance.now();
      let body = await readBody(req);
      const url = new URL(req.url, origin);
      const entry = {
        method: req.method,
        path: url.pathname,
        query: url.search.slice(1),
        body: body.length ? body.toString('latin1') : '',
        contentType: req.headers['content-type'] ?? null,
        host: req.headers.host,
        /** performance.now() when the request arrived, and when its response was sent (with which status). */
        at,
        answeredAt: undefined,
        status: undefined,
      };
      received.push(entry);
      res.once('finish', () => {
        entry.answeredAt = performance.now();
        entry.status = res.statusCode;
      });
      if (discoveryDelayMs > 0 && url.pathname.includes('/.well-known/')) {
        await sleep(discoveryDelayMs);
      }
      if (!url.pathname.startsWith(mountPath + '/') && url.pathname !== mountPath) {
        res.statusCode = 404;
        res.end('not found');
        return;
      }
      if (await interaction(provider, req, res, url, mountPath)) {
        return;
      }
      if (refuseResource && refusesResource(url, body, mountPath)) {
        res.statusCode = 400;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ error: 'invalid_request', error_description: "The 'resource' request parameter is not supported." }));
        return;
      }
      if (scopelessClientsGetNothing && req.method === 'POST' && url.pathname === mountPath + ROUTES.registration) {
        const metadata = JSON.parse(body.toString('utf8') || '{}');
        if (!metadata.scope) {
          body = Buffer.from(JSON.stringify({ ...metadata, scope: 'openid' }));
          req.headers['content-length'] = String(body.length);
        }
      }
      if (body.length) {
        req.body = body; // oidc-provider reads an already consumed body from req.body
      }
      if (mountPath) {
        req.originalUrl = req.url;
        req.url = req.url.slice(mountPath.length) || '/';
      }
      callback(req, res);
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e?.message ?? e));
    }
  };

  return {
    port,
    origin,
    issuer: issuerUrl,
    mode,
    provider,
    /** Every request the IdP received, in order. */
    received,
    /** Every later discovery (/.well-known/...) response is sent ms after its request arrived (0: at once). */
    delayDiscovery(ms) {
      discoveryDelayMs = ms;
    },
    /** The recorded requests to one of ROUTES' paths (mount path included). */
    requestsTo(route, method) {
      const path = mountPath + ROUTES[route];
      return received.filter((r) => r.path === path && (!method || r.method === method));
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** An authorization, PAR or token request (query or form) with a `resource` parameter. */
function refusesResource(url, body, mountPath) {
  const paths = [ROUTES.authorization, ROUTES.pushed_authorization_request, ROUTES.token].map((p) => mountPath + p);
  if (!paths.includes(url.pathname)) {
    return false;
  }
  return url.searchParams.has('resource') || new URLSearchParams(body.toString('latin1')).has('resource');
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The login and consent "pages": GET /interaction/:uid answers JSON naming the prompt;
 * POST /interaction/:uid/login signs ACCOUNT in; POST /interaction/:uid/consent grants exactly
 * what the provider says is missing (so a request without scope is granted no scope).
 */
export async function interaction(provider, req, res, url, mountPath) {
  const m = /^\/interaction\/([^/]+)(?:\/(login|consent))?$/.exec(url.pathname.slice(mountPath.length));
  if (!m) {
    return false;
  }
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET' && !m[2]) {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ uid: details.uid, prompt: details.prompt.name, params: details.params }));
    return true;
  }
  if (req.method === 'POST' && m[2] === 'login' && details.prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId: ACCOUNT } }, { mergeWithLastSubmission: false });
    return true;
  }
  if (req.method === 'POST' && m[2] === 'consent' && details.prompt.name === 'consent') {
    const { prompt: { details: missing }, params, session: { accountId } } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) {
      grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    }
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return true;
  }
  res.statusCode = 400;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ error: 'unexpected interaction step', prompt: details.prompt.name }));
  return true;
}
