import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Auth, Caller, Route, UserAuthKind } from './route';
import { invalidRequest } from './problems';

/**
 * How X authenticates a call: OAuth 1.0a user context (HMAC-SHA1 signatures verified against the
 * configured keys, like X does), the app-only bearer token (`POST /oauth2/token`, client
 * credentials), and OAuth 2.0 user access tokens (bearer tokens X issued for a user).
 */

export interface XApiCredentials {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
  bearerToken: string;
}

/** Development keys the simulator accepts by default (also used by `npm start` when none are set). */
export const simulatorCredentials: XApiCredentials = {
  consumerKey: 'local-consumer-key',
  consumerSecret: 'local-consumer-secret',
  accessToken: '1400000000000000001-local-access-token',
  accessTokenSecret: 'local-access-token-secret',
  bearerToken: 'local-app-bearer-token',
};

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** RFC 3986 percent-encoding, as OAuth 1.0a requires. */
function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseOAuthHeader(header: string): Record<string, string> | undefined {
  if (!header.startsWith('OAuth ')) return undefined;
  const params: Record<string, string> = {};
  for (const part of header.slice(6).split(',')) {
    const match = /^\s*([^=\s]+)="([^"]*)"\s*$/.exec(part);
    if (!match) return undefined;
    params[decodeURIComponent(match[1]!)] = decodeURIComponent(match[2]!);
  }
  return params;
}

const requiredOAuthParams = ['oauth_consumer_key', 'oauth_token', 'oauth_signature', 'oauth_signature_method', 'oauth_timestamp', 'oauth_nonce'];

/** Signature base string per OAuth 1.0a: JSON bodies are not part of it, query parameters are. */
function oauthSignature(method: string, baseUrl: string, params: Array<[string, string]>, consumerSecret: string, tokenSecret: string): string {
  const normalized = params
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : av > bv ? 1 : 0) : ak < bk ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const base = `${method.toUpperCase()}&${percentEncode(baseUrl)}&${percentEncode(normalized)}`;
  return createHmac('sha1', `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`).update(base).digest('base64');
}

export interface OAuth {
  /** OAuth 2.0 user access tokens X issued to the account (tests and the token endpoint add to it). */
  userTokens: Set<string>;
  /** Who the Authorization header says called, before it is verified. */
  callerOf(req: IncomingMessage): { caller: Caller; userAuth?: UserAuthKind };
  /** Verifies the Authorization header for the route's auth kind; undefined when accepted, else why not. */
  problem(req: IncomingMessage, url: URL, routeAuth: Auth): string | undefined;
  /** `POST /oauth2/token`. */
  routes: Route[];
  reset(): void;
}

export function oauthFamily(credentials: XApiCredentials): OAuth {
  const userTokens = new Set<string>();
  const bearerOf = (req: IncomingMessage) => {
    const header = req.headers.authorization ?? '';
    return header.startsWith('Bearer ') ? header.slice(7) : undefined;
  };

  function callerOf(req: IncomingMessage): { caller: Caller; userAuth?: UserAuthKind } {
    const bearer = bearerOf(req);
    if (bearer === undefined) return { caller: 'user', userAuth: 'oauth1' };
    return [...userTokens].some((t) => safeEqual(t, bearer)) ? { caller: 'user', userAuth: 'oauth2' } : { caller: 'app' };
  }

  function oauth1Problem(req: IncomingMessage, url: URL): string | undefined {
    const oauth = parseOAuthHeader(req.headers.authorization ?? '');
    if (!oauth) return 'This endpoint requires OAuth 1.0a user context (Authorization: OAuth ...).';
    const missing = requiredOAuthParams.filter((p) => !oauth[p]);
    if (missing.length) return `OAuth header is missing ${missing.join(', ')}.`;
    if (oauth.oauth_signature_method !== 'HMAC-SHA1') return 'Only HMAC-SHA1 OAuth signatures are supported.';
    if (oauth.oauth_consumer_key !== credentials.consumerKey || oauth.oauth_token !== credentials.accessToken) return 'Unknown consumer key or access token.';
    const { oauth_signature: given, realm: _realm, ...signed } = oauth;
    const params: Array<[string, string]> = [...Object.entries(signed), ...url.searchParams.entries()];
    const expected = oauthSignature(req.method ?? 'GET', `http://${req.headers.host}${url.pathname}`, params, credentials.consumerSecret, credentials.accessTokenSecret);
    return safeEqual(given!, expected) ? undefined : 'OAuth signature does not match.';
  }

  function problem(req: IncomingMessage, url: URL, routeAuth: Auth): string | undefined {
    if (routeAuth === 'none') return undefined;
    const { caller, userAuth } = callerOf(req);
    const wanted = routeAuth === 'either' ? caller : routeAuth;
    if (wanted === 'app') {
      const bearer = bearerOf(req);
      if (bearer === undefined) return 'This endpoint requires an OAuth 2.0 App-only bearer token.';
      return safeEqual(bearer, credentials.bearerToken) ? undefined : 'Invalid bearer token.';
    }
    return userAuth === 'oauth2' ? undefined : oauth1Problem(req, url);
  }

  /** `POST /oauth2/token` (client credentials, Basic auth with the consumer key and secret) → the app bearer token. */
  const appToken: Route = {
    method: 'POST',
    pattern: /^\/oauth2\/token$/,
    name: 'POST /oauth2/token',
    auth: 'none',
    kind: 'oauth',
    body: 'raw',
    async handle({ req, raw }) {
      const basic = (req.headers.authorization ?? '').replace(/^Basic /, '');
      const [key, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':').map((p) => decodeURIComponent(p));
      if (key !== credentials.consumerKey || secret !== credentials.consumerSecret) return { status: 403, body: { errors: [{ code: 99, label: 'authenticity_token_error', message: 'Unable to verify your credentials' }] } };
      if (new URLSearchParams(raw.toString('utf8')).get('grant_type') !== 'client_credentials') throw invalidRequest('grant_type must be client_credentials');
      return { status: 200, body: { token_type: 'bearer', access_token: credentials.bearerToken } };
    },
  };

  return { userTokens, callerOf, problem, routes: [appToken], reset: () => userTokens.clear() };
}
