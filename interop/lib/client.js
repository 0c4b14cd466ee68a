// The MCP host side: the MCP TypeScript SDK's OAuth client functions build every OAuth request
// (discovery, registration, authorization URL with PKCE, code exchange, refresh). The only
// hand-written parts are the user agent that follows redirects and clicks through the IdP's
// login and consent, and the transport for the two requests the SDK has no function for (POST
// authorization request, PAR), whose parameters are still the ones the SDK built.

import {
  discoverAuthorizationServerMetadata,
  exchangeAuthorization,
  refreshAuthorization,
  registerClient,
  startAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';

export const REDIRECT_URI = 'https://chatgpt.com/connector_platform_oauth_redirect';

/** Cookies by name and path, enough for one origin over plain http. */
class CookieJar {
  #cookies = new Map();

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.trim().toLowerCase();
        if (key === 'path') {
          path = v.trim() || '/';
        } else if (key === 'expires' && Date.parse(v) < Date.now()) {
          expired = true;
        } else if (key === 'max-age' && Number(v) <= 0) {
          expired = true;
        }
      }
      const id = `${name};${path}`;
      if (expired) {
        this.#cookies.delete(id);
      } else {
        this.#cookies.set(id, { name, value, path });
      }
    }
  }

  header(url) {
    const path = new URL(url).pathname;
    const matching = [...this.#cookies.values()].filter((c) =>
      path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`));
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

/**
 * A browser tab: follows the authorization URL through login and (unless told to abandon)
 * consent, until the IdP redirects to the client's redirect_uri or shows an error.
 *
 * @returns {Promise<{callback?: URL, abandonedAt?: string, status?: number, body?: string, trail: string[]}>}
 */
export async function userAgent(start, { consent = true, post } = {}) {
  const jar = new CookieJar();
  const trail = [];
  let url = new URL(start);
  let init = post ? { method: 'POST', body: post, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : { method: 'GET' };
  for (let hop = 0; hop < 20; hop++) {
    if (url.href.startsWith(REDIRECT_URI)) {
      return { callback: url, trail };
    }
    trail.push(`${init.method} ${url.pathname}`);
    const headers = new Headers(init.headers);
    const cookie = jar.header(url);
    if (cookie) {
      headers.set('cookie', cookie);
    }
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    jar.store(res);
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      url = new URL(res.headers.get('location'), url);
      init = { method: 'GET' };
      continue;
    }
    const body = await res.text();
    if (res.status === 200 && url.pathname.includes('/interaction/')) {
      const page = JSON.parse(body);
      if (page.prompt === 'consent' && !consent) {
        return { abandonedAt: 'consent', trail };
      }
      url = new URL(`${url.pathname}/${page.prompt}`, url);
      init = { method: 'POST' };
      continue;
    }
    return { status: res.status, body, trail };
  }
  throw new Error(`too many redirects: ${trail.join(' -> ')}`);
}

/**
 * One MCP host's connector to one authorization server base URL (the gateway, or the IdP for
 * the direct runs). Holds what a host holds: metadata, client information, tokens.
 */
export class Connector {
  constructor(serverUrl, { resource }) {
    this.serverUrl = serverUrl;
    this.resource = new URL(resource);
  }

  async discover() {
    // Which well-known URLs the SDK tried, with the status each answered.
    this.discoveryTrail = [];
    const fetchFn = async (url, init) => {
      const res = await fetch(url, init);
      this.discoveryTrail.push(`${res.status} ${new URL(url).pathname}`);
      return res;
    };
    this.metadata = await discoverAuthorizationServerMetadata(this.serverUrl, { fetchFn });
    if (!this.metadata) {
      throw new Error(`no authorization server metadata at ${this.serverUrl}`);
    }
    return this.metadata;
  }

  async register({ scope, authMethod = 'client_secret_basic' } = {}) {
    this.client = await registerClient(this.serverUrl, {
      metadata: this.metadata,
      clientMetadata: {
        client_name: 'interop MCP host',
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: authMethod,
      },
      scope,
    });
    return this.client;
  }

  /** The SDK's authorization request (URL with PKCE, state, resource, and scope when given). */
  async authorizationRequest({ scope, state = `oauth_s_${Math.random().toString(36).slice(2)}` } = {}) {
    const { authorizationUrl, codeVerifier } = await startAuthorization(this.serverUrl, {
      metadata: this.metadata,
      clientInformation: this.client,
      redirectUrl: REDIRECT_URI,
      scope,
      state,
      resource: this.resource,
    });
    return { authorizationUrl, codeVerifier, state };
  }

  /**
   * Connect (or reconnect): authorization request, user agent, code exchange.
   *
   * @param {object} o
   * @param {string} [o.scope] omitted: the ChatGPT reconnect (no scope parameter)
   * @param {'get'|'post'|'par'} [o.via] how the authorization request is sent
   * @param {boolean} [o.consent] false: the user closes the tab at the consent page
   * @param {object} [o.request] an authorizationRequest() built beforehand (then scope is unused):
   *     the first request goes out with nothing left to compute
   * @returns the outcome: tokens, or the error the host ends with
   */
  async connect({ scope, via = 'get', consent = true, request: prebuilt } = {}) {
    const request = prebuilt ?? await this.authorizationRequest({ scope });
    const { authorizationUrl, codeVerifier, state } = request;
    let flow;
    if (via === 'get') {
      flow = await userAgent(authorizationUrl, { consent });
    } else if (via === 'post') {
      const endpoint = new URL(authorizationUrl.pathname, authorizationUrl);
      flow = await userAgent(endpoint, { consent, post: authorizationUrl.searchParams.toString() });
    } else if (via === 'par') {
      const par = await this.pushAuthorizationRequest(authorizationUrl.searchParams);
      if (!par.ok) {
        return { ok: false, stage: 'par', status: par.status, error: par.json?.error, request };
      }
      const front = new URL(this.metadata.authorization_endpoint);
      front.searchParams.set('client_id', this.client.client_id);
      front.searchParams.set('request_uri', par.json.request_uri);
      flow = await userAgent(front, { consent });
    } else {
      throw new Error(`unknown via ${via}`);
    }
    if (flow.abandonedAt) {
      return { ok: false, stage: 'abandoned', request, flow };
    }
    if (!flow.callback) {
      return { ok: false, stage: 'authorize', status: flow.status, body: flow.body, request, flow };
    }
    const params = flow.callback.searchParams;
    if (params.get('state') !== state) {
      throw new Error(`state mismatch: sent ${state}, got ${params.get('state')}`);
    }
    if (params.get('error')) {
      return { ok: false, stage: 'authorize', error: params.get('error'), errorDescription: params.get('error_description'), request, flow };
    }
    this.tokens = await exchangeAuthorization(this.serverUrl, {
      metadata: this.metadata,
      clientInformation: this.client,
      authorizationCode: params.get('code'),
      codeVerifier,
      redirectUri: REDIRECT_URI,
      resource: this.resource,
    });
    return { ok: true, tokens: this.tokens, request, flow };
  }

  async refresh() {
    this.tokens = await refreshAuthorization(this.serverUrl, {
      metadata: this.metadata,
      clientInformation: this.client,
      refreshToken: this.tokens.refresh_token,
      resource: this.resource,
    });
    return this.tokens;
  }

  /**
   * PAR (RFC 9126): the SDK has no function for it, so the SDK-built authorization parameters
   * are posted as they are to the pushed_authorization_request_endpoint. Public clients only
   * (the client authentication would otherwise be hand-made).
   */
  async pushAuthorizationRequest(searchParams) {
    const res = await fetch(this.metadata.pushed_authorization_request_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: searchParams.toString(),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { ok: res.ok, status: res.status, json, text };
  }
}
