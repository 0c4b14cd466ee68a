// A Keycloak-like IdP: one http server hosting several oidc-provider instances ("realms"), each
// mounted under /realms/<name> with its own issuer (the gateway's origin + that path) and its own
// API scopes. Strict like the seed's IdP: an authorization or PAR request without `scope` is
// refused with invalid_scope. Every request is recorded raw, per realm.

import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
import { ROUTES, interaction } from './idp.js';

/**
 * @param {object} o
 * @param {string} o.publicOrigin the origin issuers are named under (the gateway's)
 * @param {Record<string, string[]>} o.realms realm name to its API scopes
 * @param {(name: string) => string[]} o.resources the resource indicators each realm serves
 */
export async function startRealms({ publicOrigin, realms, resources }) {
  const received = [];
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  const origin = `http://127.0.0.1:${port}`;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const providers = {};
  for (const [name, scopes] of Object.entries(realms)) {
    const mountPath = `/realms/${name}`;
    const provider = new Provider(`${publicOrigin}${mountPath}`, {
      routes: ROUTES,
      jwks: { keys: [{ ...rsa, kid: `rsa-${name}`, use: 'sig' }] },
      cookies: { keys: [randomBytes(32).toString('hex')], long: { httpOnly: true, sameSite: 'none' } },
      scopes: ['openid', 'offline_access', ...scopes],
      claims: { openid: ['sub'] },
      pkce: { required: () => true },
      findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
      features: {
        devInteractions: { enabled: false },
        registration: { enabled: true },
        pushedAuthorizationRequests: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: (ctx, client, oneOf) => oneOf,
          useGrantedResource: () => true,
          getResourceServerInfo: (ctx, indicator) => {
            if (!resources(name).includes(indicator)) {
              throw new errors.InvalidTarget();
            }
            return { scope: scopes.join(' '), audience: indicator, accessTokenFormat: 'opaque' };
          },
        },
      },
      extraParams: {
        scope(ctx, value) {
          if (!value || !String(value).trim()) {
            throw new errors.InvalidScope('the scope parameter is required');
          }
        },
      },
      interactions: { url: (ctx, i) => `${mountPath}/interaction/${i.uid}` },
      loadExistingGrant: async (ctx) => {
        const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
        return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
      },
    });
    provider.proxy = true;
    providers[name] = { provider, mountPath, callback: provider.callback() };
  }

  async function handler(req, res) {
    try {
      const chunks = [];
      for await (const chunk of req) {
        chunks.push(chunk);
      }
      const body = Buffer.concat(chunks);
      const url = new URL(req.url, origin);
      received.push({ method: req.method, path: url.pathname, query: url.search.slice(1), host: req.headers.host,
        body: body.toString('latin1') });
      const realm = Object.values(providers).find((p) => url.pathname.startsWith(p.mountPath + '/'));
      if (!realm) {
        res.statusCode = 404;
        res.end('not found');
        return;
      }
      if (await interaction(realm.provider, req, res, url, realm.mountPath)) {
        return;
      }
      if (body.length) {
        req.body = body;
      }
      req.originalUrl = req.url;
      req.url = req.url.slice(realm.mountPath.length) || '/';
      realm.callback(req, res);
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e?.message ?? e));
    }
  }

  return {
    port,
    origin,
    received,
    provider: (name) => providers[name].provider,
    /** The requests to a realm's endpoint (ROUTES key). */
    requestsTo(name, route, method) {
      const path = `/realms/${name}${ROUTES[route]}`;
      return received.filter((r) => r.path === path && (!method || r.method === method));
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
