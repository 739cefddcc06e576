import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { signPayload } from '../../functions/core/x-signature';
import { listenOnLoopback, readBody } from '../../local/http';

/**
 * The X API v2 as the bridge and its operator CLI see it, on a real HTTP server (127.0.0.1, free
 * port): DM sending (`POST /2/dm_conversations/with/:participant_id/messages`), webhook management
 * (`/2/webhooks`, with a real CRC GET to the registered URL), Account Activity subscriptions and
 * the app bearer token (`POST /oauth2/token`).
 * Wire formats follow X's public documentation: `{data: ...}` bodies, errors as
 * `{errors?, title, detail, type, status}`, `x-rate-limit-*` headers on every answer. OAuth 1.0a
 * signatures (HMAC-SHA1) are verified against the configured keys, like X does.
 *
 * Pointing twitter-api-v2 at it: `client.v2.setPrefix(`${sim.url}/2/`)`, and pass
 * `{ httpAgent: new http.Agent() }` as the client settings (the library only speaks https otherwise).
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

export interface XApiSimulatorOptions {
  credentials?: Partial<XApiCredentials>;
  /** The id of the account the access token belongs to (the company account). */
  accountId?: string;
  /** Requests allowed per rate-limit window before real 429s (defaults: 100,000 per 15 min). */
  rateLimit?: { limit: number; windowSeconds: number };
  /** How many webhooks the app may register (X's lower tiers allow one). */
  maxWebhooks?: number;
  /** Time the CRC GET may take before it counts as failed (X allows 3 s). */
  crcTimeoutMs?: number;
}

export interface SentDm {
  participantId: string;
  text: string;
  attachments?: Array<{ media_id: string }>;
  dmConversationId: string;
  dmEventId: string;
  at: Date;
}

export interface SimulatedWebhook {
  id: string;
  url: string;
  valid: boolean;
  created_at: string;
}

export interface CrcAttempt {
  url: string;
  webhookId?: string;
  ok: boolean;
  /** Why it failed (status, body, timeout), for assertions and `status` output. */
  reason?: string;
  at: Date;
}

export type InjectedFailure =
  | { status: 429; /** epoch seconds; default: now + 1 */ resetAt?: number }
  | { status: 401 }
  /** X blames the app: its OAuth 1.0a permissions do not cover the endpoint (problem type oauth1-permissions). */
  | { status: 403; problem: 'oauth1-permissions' }
  | { status: 500 | 502 | 503 | 504 };

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
}

export interface XApiSimulator {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:43211 (the `X_API_BASE_URL`). */
  url: string;
  credentials: XApiCredentials;
  accountId: string;
  /** Every DM accepted, in order. */
  dms: SentDm[];
  /** People who do not accept DMs from the account (or blocked it): a DM to them is a 403. */
  dmRefusers: Set<string>;
  webhooks: SimulatedWebhook[];
  /** webhook id → subscribed user ids. */
  subscriptions: Map<string, Set<string>>;
  crcAttempts: CrcAttempt[];
  requests: RecordedRequest[];
  /** The next `times` API calls (DM sends, webhook and subscription calls) answer with this failure. */
  failNext(times: number, failure: InjectedFailure, only?: 'dm' | 'all'): void;
  /** Forgets DMs, webhooks, subscriptions, injected failures and the request log. */
  reset(): void;
  close(): Promise<void>;
}

const problem = {
  invalidRequest: 'https://api.twitter.com/2/problems/invalid-request',
  notFound: 'https://api.twitter.com/2/problems/resource-not-found',
  duplicate: 'https://api.twitter.com/2/problems/duplicate-webhook',
  forbidden: 'https://api.twitter.com/2/problems/client-forbidden',
} as const;

const statusTitles: Record<number, string> = {
  401: 'Unauthorized',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

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

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

type Auth = 'user' | 'app';

interface Route {
  method: string;
  pattern: RegExp;
  auth: Auth;
  kind: 'dm' | 'management';
  handle(ctx: { params: string[]; body: unknown; url: URL }): Promise<{ status: number; body?: unknown }>;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.detail ?? body.title));
  }
}

function errorBody(status: number, detail?: string): Record<string, unknown> {
  const title = statusTitles[status] ?? 'Error';
  return { title, detail: detail ?? title, type: 'about:blank', status };
}

function invalidRequest(message: string, parameters?: Record<string, string[]>): HttpProblem {
  return new HttpProblem(400, {
    errors: [{ ...(parameters ? { parameters } : {}), message }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: problem.invalidRequest,
    status: 400,
  });
}

function notFound(what: string, id: string): HttpProblem {
  return new HttpProblem(404, {
    errors: [{ value: id, detail: `Could not find ${what} with id: [${id}].`, title: 'Not Found Error', resource_type: what, parameter: 'id', type: problem.notFound }],
    title: 'Not Found Error',
    detail: `Could not find ${what} with id: [${id}].`,
    type: problem.notFound,
    status: 404,
  });
}


function snowflake(): string {
  return (BigInt(Date.now()) * 4_194_304n + BigInt(randomBytes(2).readUInt16BE(0))).toString();
}

export async function startXApiSimulator(options: XApiSimulatorOptions = {}): Promise<XApiSimulator> {
  const credentials: XApiCredentials = { ...simulatorCredentials, ...options.credentials };
  const accountId = options.accountId ?? credentials.accessToken.split('-')[0] ?? '1400000000000000001';
  const rate = options.rateLimit ?? { limit: 100_000, windowSeconds: 900 };
  const maxWebhooks = options.maxWebhooks ?? 1;
  const crcTimeoutMs = options.crcTimeoutMs ?? 3000;

  const dms: SentDm[] = [];
  const dmRefusers = new Set<string>();
  const webhooks: SimulatedWebhook[] = [];
  const subscriptions = new Map<string, Set<string>>();
  const crcAttempts: CrcAttempt[] = [];
  const requests: RecordedRequest[] = [];
  const failures: Array<{ failure: InjectedFailure; only: 'dm' | 'all' }> = [];
  const conversations = new Map<string, string>();
  let window = { resetAt: 0, used: 0 };

  function rateLimitHeaders(): Record<string, string> {
    const now = Math.floor(Date.now() / 1000);
    if (now >= window.resetAt) window = { resetAt: now + rate.windowSeconds, used: 0 };
    return {
      'x-rate-limit-limit': String(rate.limit),
      'x-rate-limit-remaining': String(Math.max(0, rate.limit - window.used)),
      'x-rate-limit-reset': String(window.resetAt),
    };
  }

  /** CRC exactly as X runs it: GET url?crc_token=…, expect 200 JSON with the HMAC of the token. */
  async function runCrc(url: string, webhookId?: string): Promise<CrcAttempt> {
    const token = randomBytes(24).toString('base64url');
    const target = new URL(url);
    target.searchParams.set('crc_token', token);
    let attempt: CrcAttempt;
    try {
      const res = await fetch(target, { signal: AbortSignal.timeout(crcTimeoutMs) });
      const text = await res.text();
      let responseToken: unknown;
      try {
        responseToken = (JSON.parse(text) as { response_token?: unknown }).response_token;
      } catch {
        responseToken = undefined;
      }
      const expected = signPayload(credentials.consumerSecret, token);
      if (res.status !== 200) attempt = { url, webhookId, ok: false, reason: `CRC GET answered HTTP ${res.status}`, at: new Date() };
      else if (typeof responseToken !== 'string') attempt = { url, webhookId, ok: false, reason: 'CRC answer has no response_token', at: new Date() };
      else if (!safeEqual(responseToken, expected)) attempt = { url, webhookId, ok: false, reason: 'CRC response_token does not match', at: new Date() };
      else attempt = { url, webhookId, ok: true, at: new Date() };
    } catch (err) {
      attempt = { url, webhookId, ok: false, reason: `CRC GET failed: ${(err as Error).message}`, at: new Date() };
    }
    crcAttempts.push(attempt);
    return attempt;
  }

  function crcFailed(): HttpProblem {
    return invalidRequest('Webhook URL does not meet the requirements. Invalid CRC token or json response format.', {});
  }

  function findWebhook(id: string): SimulatedWebhook {
    const hook = webhooks.find((w) => w.id === id);
    if (!hook) throw notFound('webhook', id);
    return hook;
  }

  const routes: Route[] = [
    {
      method: 'POST',
      pattern: /^\/2\/dm_conversations\/with\/([^/]+)\/messages$/,
      auth: 'user',
      kind: 'dm',
      async handle({ params, body }) {
        const participantId = params[0]!;
        const b = (body ?? {}) as { text?: unknown; attachments?: unknown };
        if (!/^\d+$/.test(participantId)) throw invalidRequest(`The \`participant_id\` path parameter [${participantId}] is not valid`, { participant_id: [participantId] });
        const text = typeof b.text === 'string' ? b.text : '';
        const attachments = Array.isArray(b.attachments) ? (b.attachments as Array<{ media_id: string }>) : undefined;
        if (!text && !attachments?.length) throw invalidRequest('Either `text` or `attachments` is required', { text: [] });
        if (text.length > 10_000) throw invalidRequest('`text` exceeds 10000 characters', { text: [] });
        if (participantId === accountId) throw new HttpProblem(403, { ...errorBody(403, 'You cannot send messages to yourself.'), title: 'Forbidden', type: problem.forbidden });
        // --- issue 8: a person who refuses DMs. X documents a 403 for it; this body is inferred from
        // v1.1's error 349 and v2's problem format (no documented v2 example). ---
        if (dmRefusers.has(participantId)) throw new HttpProblem(403, { ...errorBody(403, 'You cannot send messages to this user.'), title: 'Forbidden' });
        let dmConversationId = conversations.get(participantId);
        if (!dmConversationId) {
          dmConversationId = `${accountId}-${participantId}`;
          conversations.set(participantId, dmConversationId);
        }
        const dm: SentDm = { participantId, text, attachments, dmConversationId, dmEventId: snowflake(), at: new Date() };
        dms.push(dm);
        return { status: 201, body: { data: { dm_conversation_id: dm.dmConversationId, dm_event_id: dm.dmEventId } } };
      },
    },
    {
      method: 'POST',
      pattern: /^\/2\/webhooks$/,
      auth: 'app',
      kind: 'management',
      async handle({ body }) {
        const url = (body as { url?: unknown } | undefined)?.url;
        if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw invalidRequest('The `url` body parameter is required and must be a URL', { url: [String(url ?? '')] });
        if (webhooks.some((w) => w.url === url)) throw invalidRequest('A webhook with this URL is already registered', { url: [url] });
        if (webhooks.length >= maxWebhooks) {
          throw new HttpProblem(403, { ...errorBody(403, `This app may register at most ${maxWebhooks} webhook(s).`), title: 'Forbidden', type: problem.forbidden });
        }
        const id = snowflake();
        const crc = await runCrc(url, id);
        if (!crc.ok) throw crcFailed();
        const hook: SimulatedWebhook = { id, url, valid: true, created_at: new Date().toISOString() };
        webhooks.push(hook);
        return { status: 200, body: { data: hook } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/2\/webhooks$/,
      auth: 'app',
      kind: 'management',
      async handle() {
        return { status: 200, body: { data: webhooks.map((w) => ({ ...w })), meta: { result_count: webhooks.length } } };
      },
    },
    {
      method: 'PUT',
      pattern: /^\/2\/webhooks\/([^/]+)$/,
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const hook = findWebhook(params[0]!);
        const crc = await runCrc(hook.url, hook.id);
        hook.valid = crc.ok;
        if (!crc.ok) throw crcFailed();
        return { status: 200, body: { data: { attempted: true } } };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/2\/webhooks\/([^/]+)$/,
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const hook = findWebhook(params[0]!);
        webhooks.splice(webhooks.indexOf(hook), 1);
        subscriptions.delete(hook.id);
        return { status: 200, body: { data: { deleted: true } } };
      },
    },
    {
      method: 'POST',
      pattern: /^\/2\/account_activity\/webhooks\/([^/]+)\/subscriptions\/all$/,
      auth: 'user',
      kind: 'management',
      async handle({ params }) {
        const hook = findWebhook(params[0]!);
        if (!hook.valid) throw invalidRequest('The webhook is not valid: re-run the CRC check (PUT /2/webhooks/:id) first');
        const subs = subscriptions.get(hook.id) ?? new Set<string>();
        subs.add(accountId);
        subscriptions.set(hook.id, subs);
        return { status: 200, body: { data: { subscribed: true } } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/2\/account_activity\/webhooks\/([^/]+)\/subscriptions\/all$/,
      auth: 'user',
      kind: 'management',
      async handle({ params }) {
        const hook = findWebhook(params[0]!);
        return { status: 200, body: { data: { subscribed: subscriptions.get(hook.id)?.has(accountId) ?? false } } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/2\/account_activity\/webhooks\/([^/]+)\/subscriptions\/all\/list$/,
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const hook = findWebhook(params[0]!);
        const users = [...(subscriptions.get(hook.id) ?? [])].map((user_id) => ({ user_id }));
        return {
          status: 200,
          body: { data: { application_id: credentials.consumerKey, webhook_id: hook.id, webhook_url: hook.url, subscriptions: users } },
        };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/2\/account_activity\/webhooks\/([^/]+)\/subscriptions\/([^/]+)\/all$/,
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const hook = findWebhook(params[0]!);
        const subs = subscriptions.get(hook.id);
        if (!subs?.delete(params[1]!)) throw notFound('subscription', params[1]!);
        return { status: 200, body: { data: { subscribed: false } } };
      },
    },
  ];

  /** Verifies the Authorization header for the route's auth kind; undefined when accepted. */
  function authProblem(req: IncomingMessage, url: URL, auth: Auth): string | undefined {
    const header = req.headers.authorization ?? '';
    if (auth === 'app') {
      if (!header.startsWith('Bearer ')) return 'This endpoint requires an OAuth 2.0 App-only bearer token.';
      return safeEqual(header.slice(7), credentials.bearerToken) ? undefined : 'Invalid bearer token.';
    }
    const oauth = parseOAuthHeader(header);
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

  /** `POST /oauth2/token` (client credentials, Basic auth with the consumer key and secret) → the app bearer token. */
  function appToken(req: IncomingMessage, raw: Buffer, send: (status: number, body?: unknown) => void): void {
    const basic = (req.headers.authorization ?? '').replace(/^Basic /, '');
    const [key, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':').map((p) => decodeURIComponent(p));
    if (key !== credentials.consumerKey || secret !== credentials.consumerSecret) return send(403, { errors: [{ code: 99, label: 'authenticity_token_error', message: 'Unable to verify your credentials' }] });
    if (new URLSearchParams(raw.toString('utf8')).get('grant_type') !== 'client_credentials') return send(400, invalidRequest('grant_type must be client_credentials').body);
    return send(200, { token_type: 'bearer', access_token: credentials.bearerToken });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const raw = await readBody(req);
    const headers = rateLimitHeaders();
    const send = (status: number, body?: unknown, extra: Record<string, string> = {}) => {
      requests.push({ method: req.method ?? 'GET', path: url.pathname, status });
      res.writeHead(status, { ...headers, ...extra, ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }) });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };

    if (req.method === 'POST' && url.pathname === '/oauth2/token') return appToken(req, raw, send);

    let params: string[] = [];
    const route = routes.find((r) => {
      const m = r.method === req.method ? r.pattern.exec(url.pathname) : null;
      if (m) params = m.slice(1).map(decodeURIComponent);
      return Boolean(m);
    });
    if (!route) return send(404, errorBody(404, `No route for ${req.method} ${url.pathname}`));

    const authError = authProblem(req, url, route.auth);
    if (authError) return send(401, errorBody(401, authError));

    const injected = failures[0];
    if (injected && (injected.only === 'all' || route.kind === 'dm')) {
      failures.shift();
      const f = injected.failure;
      if (f.status === 429) {
        const reset = String(f.resetAt ?? Math.floor(Date.now() / 1000) + 1);
        return send(429, errorBody(429), { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': reset });
      }
      if (f.status === 403) {
        return send(403, {
          ...errorBody(403, 'Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.'),
          title: 'Forbidden',
          type: `https://api.twitter.com/2/problems/${f.problem}`,
        });
      }
      return send(f.status, errorBody(f.status));
    }

    if (window.used >= rate.limit) return send(429, errorBody(429), { 'x-rate-limit-remaining': '0' });
    window.used += 1;
    headers['x-rate-limit-remaining'] = String(Math.max(0, rate.limit - window.used));

    let body: unknown;
    if (raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return send(400, invalidRequest('Request body is not valid JSON').body);
      }
    }
    try {
      const out = await route.handle({ params, body, url });
      return send(out.status, out.body);
    } catch (err) {
      if (err instanceof HttpProblem) return send(err.status, err.body);
      return send(500, errorBody(500, (err as Error).message));
    }
  }

  const { server, port } = await listenOnLoopback(handle);

  return {
    url: `http://127.0.0.1:${port}`,
    credentials,
    accountId,
    dms,
    dmRefusers,
    webhooks,
    subscriptions,
    crcAttempts,
    requests,
    failNext(times, failure, only = 'all') {
      for (let i = 0; i < times; i++) failures.push({ failure, only });
    },
    reset() {
      dms.length = 0;
      dmRefusers.clear();
      webhooks.length = 0;
      subscriptions.clear();
      crcAttempts.length = 0;
      requests.length = 0;
      failures.length = 0;
      conversations.clear();
      window = { resetAt: 0, used: 0 };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
