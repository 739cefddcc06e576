import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TwitterApi } from 'twitter-api-v2';
import type { WritableSecretSource } from '../functions/adapters/secrets';
import { X_CALL_TIMEOUT_MS, xClientSettings } from '../functions/adapters/x-client';
import { describeXError } from '../functions/adapters/x-webhooks';

/**
 * `npm run x -- authorize --tenant NAME`: the company account authorises the X app for OAuth 2.0
 * user context (authorization code with PKCE, twitter-api-v2's helpers), the redirect comes back to
 * a server on this machine's loopback, X says which account approved (`GET /2/users/me`), and only
 * when it is the tenant's company account do the tokens go into the tenant secret with
 * `userAuth: "oauth2"`: from then on the bridge sends, looks up DMs, downloads media and subscribes
 * with them.
 */

/** What the bridge needs of the account: DMs read and written, and (for refreshing without a person) offline access. */
const OAUTH2_SCOPES = ['dm.read', 'dm.write', 'tweet.read', 'users.read', 'offline.access'];

/** X's authorize page (twitter-api-v2 builds its links on it). */
const X_AUTHORIZE_URL = 'https://x.com/i/oauth2/authorize';

export interface AuthorizeOptions {
  tenant: string;
  /** The tenant's company account (tenants/NAME.json `xAccountId`): the only account whose approval is stored. */
  xAccountId: string;
  /** The X app's OAuth 2.0 client (developer portal, "OAuth 2.0 Client ID and Client Secret"). */
  clientId: string;
  clientSecret?: string;
  /** X's API origin (the token endpoint); the simulator in tests. */
  apiBaseUrl: string;
  /** X's authorize page; the simulator's in tests. */
  authorizeUrl?: string;
  /** Loopback port of the redirect: `http://127.0.0.1:PORT/callback` must be a callback URL of the X app. */
  port: number;
  secrets: WritableSecretSource;
  out(line: string): void;
  /** Opens the authorize link (tests follow it; people get it printed). */
  open?(url: string): void;
  /** How long to wait for the account to approve (default 5 minutes). */
  waitMs?: number;
  now?: () => number;
}

/** The loopback server: resolves with the query of the first request to /callback. */
function awaitRedirect(port: number, waitMs: number): { server: Server; ready: Promise<number>; query: Promise<URLSearchParams> } {
  let resolveQuery: (q: URLSearchParams) => void = () => undefined;
  let rejectQuery: (e: Error) => void = () => undefined;
  const query = new Promise<URLSearchParams>((resolve, reject) => {
    resolveQuery = resolve;
    rejectQuery = reject;
  });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('4biz-twitter-dm: you can close this window and go back to the terminal.');
    resolveQuery(url.searchParams);
  });
  const timer = setTimeout(() => rejectQuery(new Error(`nobody approved within ${Math.round(waitMs / 1000)} s`)), waitMs);
  void query.finally(() => clearTimeout(timer)).catch(() => undefined);
  const ready = new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  return { server, ready, query };
}

/** Runs the flow; true when the tokens are stored. */
export async function runAuthorize(o: AuthorizeOptions): Promise<boolean> {
  const redirect = awaitRedirect(o.port, o.waitMs ?? 5 * 60_000);
  try {
    const port = await redirect.ready;
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const credentials = { clientId: o.clientId, ...(o.clientSecret ? { clientSecret: o.clientSecret } : {}) };
    const link = new TwitterApi(credentials).generateOAuth2AuthLink(redirectUri, { scope: OAUTH2_SCOPES });
    const url = o.authorizeUrl ? `${o.authorizeUrl}${new URL(link.url).search}` : link.url;
    if (!url.startsWith(X_AUTHORIZE_URL) && !o.authorizeUrl) throw new Error(`unexpected authorize link ${url}`);
    o.out(`Open this link in a browser signed in to X as the company account of tenant ${o.tenant}, and approve:`);
    o.out(`  ${url}`);
    o.out(`(${redirectUri} must be one of the X app's callback URLs; waiting for X to redirect there…)`);
    o.open?.(url);
    const query = await redirect.query;
    if (query.get('error')) {
      o.out(`X did not authorise the app: ${query.get('error')}${query.get('error_description') ? ` (${query.get('error_description')})` : ''}.`);
      return false;
    }
    if (query.get('state') !== link.state || !query.get('code')) {
      o.out('The redirect did not carry this request\'s state and a code: nothing stored. Run authorize again.');
      return false;
    }
    // X's codes last 30 s: exchanged at once.
    const client = new TwitterApi(credentials, xClientSettings(o.apiBaseUrl, X_CALL_TIMEOUT_MS));
    let result;
    try {
      result = await client.loginWithOAuth2({ code: query.get('code')!, codeVerifier: link.codeVerifier, redirectUri });
    } catch (err) {
      o.out(`X refused the authorization code: ${describeXError(err)}`);
      return false;
    }
    // Whoever was signed in to x.com approved: a person's own account must not become the company's.
    let approver;
    try {
      approver = (await new TwitterApi(result.accessToken, xClientSettings(o.apiBaseUrl, X_CALL_TIMEOUT_MS)).v2.me()).data;
    } catch (err) {
      o.out(`X did not say which account approved (GET /2/users/me: ${describeXError(err)}): nothing stored. Run authorize again.`);
      return false;
    }
    if (approver.id !== o.xAccountId) {
      o.out(
        `The X account @${approver.username} (id ${approver.id}) approved, but tenant ${o.tenant} is the X account ${o.xAccountId} (xAccountId in tenants/${o.tenant}.json): nothing stored. ` +
          `Log in to X as the company account (log out of @${approver.username} first, or use a private browser window), then run npm run x -- authorize --tenant ${o.tenant} again. ` +
          `@${approver.username} can remove the app's access in X's settings (Security and account access, Apps and sessions).`,
      );
      return false;
    }
    const granted = new Set<string>(result.scope);
    const missing = OAUTH2_SCOPES.filter((s) => !granted.has(s));
    if (missing.length || !result.refreshToken) {
      o.out(`X granted fewer scopes than the bridge needs (missing ${missing.join(', ')}): nothing stored. Check the app's permissions (Read and write and Direct Messages), then run authorize again.`);
      return false;
    }
    const now = o.now ?? Date.now;
    await o.secrets.update({
      userAuth: 'oauth2',
      oauth2: {
        ...credentials,
        accessToken: result.accessToken,
        refreshToken: result.refreshToken,
        expiresAt: new Date(now() + result.expiresIn * 1000).toISOString(),
        scope: result.scope.join(' '),
      },
    });
    o.out(`Stored OAuth 2.0 tokens of @${approver.username} (scopes ${result.scope.join(' ')}) in the tenant secret with userAuth "oauth2": the bridge now calls X with OAuth 2.0 user context and refreshes the tokens itself.`);
    return true;
  } finally {
    redirect.server.close();
  }
}
