import { createHash, randomBytes } from 'node:crypto';
import type { OAuth } from './oauth';
import { errorBody, HttpProblem, invalidRequest } from './problems';
import type { Route } from './route';

/**
 * OAuth 2.0 user context as X documents it (docs.x.com "OAuth 2.0 Authorization Code Flow with
 * PKCE"): `GET /i/oauth2/authorize` (on x.com: here the account approves at once and is redirected
 * to `redirect_uri` with `code` and `state`), `POST /2/oauth2/token` with `grant_type`
 * `authorization_code` (the code lives 30 s, the PKCE verifier must match its S256 challenge) or
 * `refresh_token` (X rotates refresh tokens: the one used stops working). Access tokens last 2 hours;
 * a refresh token comes only with `offline.access`. The access tokens join the OAuth family's user
 * tokens, so the API routes accept them as the account's user context.
 *
 * Whoever is signed in to x.com approves: the company account unless a test signs another one in
 * (`approveAs`). That account's tokens are its own: only `GET /2/users/me` (OpenAPI getUsersMe,
 * `{data: {id, name, username}}`) takes them, and says whose they are.
 */

/** An X account as `GET /2/users/me` describes it. */
export interface XUser {
  id: string;
  name: string;
  username: string;
}

export interface OAuth2Client {
  clientId: string;
  /** A confidential client authenticates with Basic auth; a public one sends `client_id` in the body. */
  clientSecret?: string;
}

export const simulatorOAuth2Client: OAuth2Client = { clientId: 'local-oauth2-client-id', clientSecret: 'local-oauth2-client-secret' };

const CODE_LIFETIME_MS = 30_000;
const ACCESS_TOKEN_SECONDS = 7200;

const oauthError = (error: string, description: string) => ({ status: 400, body: { error, error_description: description } });
const token = (prefix: string) => `${prefix}-${randomBytes(24).toString('base64url')}`;

export function oauth2UserFamily(opts: { client: OAuth2Client; oauth: OAuth; account: XUser; now: () => number }) {
  const userTokens = opts.oauth.userTokens;
  const codes = new Map<string, { challenge: string; redirectUri: string; scope: string; issuedAt: number; approver?: XUser }>();
  const refreshTokens = new Map<string, { scope: string; approver?: XUser }>();
  /** Tokens of accounts other than the company's (they approved instead of it). */
  const otherTokens = new Map<string, XUser>();
  /** Who approves at x.com; undefined: the company account. */
  let approver: XUser | undefined;
  /** Every token grant answered, in order (tests count refreshes). */
  const grants: Array<{ grantType: string; ok: boolean }> = [];

  const authorize: Route = {
    method: 'GET',
    pattern: /^\/i\/oauth2\/authorize$/,
    name: 'GET /i/oauth2/authorize',
    auth: 'none',
    kind: 'oauth',
    rateLimited: false,
    async handle({ url }) {
      const q = url.searchParams;
      if (q.get('response_type') !== 'code' || q.get('client_id') !== opts.client.clientId) throw invalidRequest('unknown client_id or response_type is not code');
      if (q.get('code_challenge_method')?.toLowerCase() !== 's256' || !q.get('code_challenge')) throw invalidRequest('PKCE with code_challenge_method S256 is required');
      const redirectUri = q.get('redirect_uri');
      if (!redirectUri || !URL.canParse(redirectUri)) throw invalidRequest('redirect_uri is required');
      const code = token('code');
      codes.set(code, { challenge: q.get('code_challenge')!, redirectUri, scope: q.get('scope') ?? '', issuedAt: opts.now(), approver });
      const target = new URL(redirectUri);
      target.searchParams.set('state', q.get('state') ?? '');
      target.searchParams.set('code', code);
      return { status: 302, headers: { location: target.toString() } };
    },
  };

  function clientOf(authorization: string | undefined, form: URLSearchParams): boolean {
    if (authorization?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':').map((p) => decodeURIComponent(p));
      return id === opts.client.clientId && secret === opts.client.clientSecret;
    }
    return opts.client.clientSecret === undefined && form.get('client_id') === opts.client.clientId;
  }

  function issue(scope: string, by: XUser | undefined) {
    const access = token('oauth2-access');
    if (by) otherTokens.set(access, by);
    else userTokens.add(access);
    const refresh = scope.split(' ').includes('offline.access') ? token('oauth2-refresh') : undefined;
    if (refresh) refreshTokens.set(refresh, { scope, approver: by });
    return { status: 200, body: { token_type: 'bearer', expires_in: ACCESS_TOKEN_SECONDS, access_token: access, scope, ...(refresh ? { refresh_token: refresh } : {}) } };
  }

  const tokenRoute: Route = {
    method: 'POST',
    pattern: /^\/2\/oauth2\/token$/,
    name: 'POST /2/oauth2/token',
    auth: 'none',
    kind: 'oauth',
    body: 'raw',
    rateLimited: false,
    async handle({ req, raw }) {
      if (!/application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) return oauthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
      const form = new URLSearchParams(raw.toString('utf8'));
      const grantType = form.get('grant_type') ?? '';
      const answer = (() => {
        if (!clientOf(req.headers.authorization, form)) return { status: 401, body: { error: 'invalid_client', error_description: 'Missing valid authorization header' } };
        if (grantType === 'authorization_code') {
          const code = codes.get(form.get('code') ?? '');
          codes.delete(form.get('code') ?? '');
          if (!code || opts.now() - code.issuedAt > CODE_LIFETIME_MS) return oauthError('invalid_request', 'Value passed for the authorization code was invalid.');
          const verifier = form.get('code_verifier') ?? '';
          if (createHash('sha256').update(verifier).digest('base64url') !== code.challenge) return oauthError('invalid_request', 'Value passed for the code verifier did not match the code challenge.');
          if (form.get('redirect_uri') !== code.redirectUri) return oauthError('invalid_request', 'Value passed for the redirect uri did not match the uri of the authorization code.');
          return issue(code.scope, code.approver);
        }
        if (grantType === 'refresh_token') {
          const refresh = form.get('refresh_token') ?? '';
          const granted = refreshTokens.get(refresh);
          if (granted === undefined) return oauthError('invalid_request', 'Value passed for the token was invalid.');
          // X rotates refresh tokens: the one just used is spent.
          refreshTokens.delete(refresh);
          return issue(granted.scope, granted.approver);
        }
        return oauthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
      })();
      grants.push({ grantType, ok: answer.status === 200 });
      return answer;
    },
  };

  /** `GET /2/users/me`: the account whose user context called (OAuth 1.0a or OAuth 2.0, the company's or another account's token). */
  const me: Route = {
    method: 'GET',
    pattern: /^\/2\/users\/me$/,
    name: 'GET /2/users/me',
    // Checked here: the router knows only the company account's tokens.
    auth: 'none',
    kind: 'users',
    async handle({ req, url }) {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const other = bearer === undefined ? undefined : otherTokens.get(bearer);
      if (other) return { status: 200, body: { data: { ...other } } };
      const refused = opts.oauth.problem(req, url, 'user');
      if (refused) throw new HttpProblem(401, errorBody(401, refused));
      return { status: 200, body: { data: { ...opts.account } } };
    },
  };

  return {
    routes: [authorize, tokenRoute, me],
    grants,
    /** Who approves at x.com from now on: another account (a person signed in as themselves), or the company account again (undefined). */
    approveAs(user: XUser | undefined) {
      approver = user;
    },
    /** Two hours pass: every OAuth 2.0 access token X issued stops working (refresh tokens stay good). */
    expireAccessTokens() {
      for (const t of [...userTokens]) if (t.startsWith('oauth2-access-')) userTokens.delete(t);
      otherTokens.clear();
    },
    reset() {
      codes.clear();
      refreshTokens.clear();
      otherTokens.clear();
      approver = undefined;
      grants.length = 0;
    },
  };
}
