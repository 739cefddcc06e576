import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SIGNATURE_HEADER, signPayload } from '../functions/core/x-signature';
import { listenOnLoopback, readBody } from '../local/http';

/**
 * The X API v2 as the bridge and its operator CLI see it, on a real HTTP server (127.0.0.1, free
 * port): DM sending (`POST /2/dm_conversations/with/:participant_id/messages`), webhook management
 * (`/2/webhooks`, with a real CRC GET to the registered URL), Account Activity subscriptions, X
 * Activity API subscriptions (`/2/activity/subscriptions`), replay jobs (`POST /2/webhooks/replay`),
 * signed deliveries to the registered webhook, and the app bearer token (`POST /oauth2/token`).
 * Wire formats follow X's public documentation (docs.x.com, the OpenAPI document in the repository
 * xdevplatform/docs): `{data: ...}` bodies, errors as `{errors?, title, detail, type, status}` with
 * problem types under `https://api.x.com/2/problems/`, `x-rate-limit-*` headers on every answer and
 * a window per endpoint with X's documented limits. OAuth 1.0a signatures (HMAC-SHA1) are verified
 * against the configured keys, like X does.
 *
 * Inferred, not documented: the exact status and body of the failure reasons X lists by name
 * (`DuplicateUrlFailed`, `WebhookLimitExceeded`, `UrlValidationFailed`, `CrcValidationFailed`,
 * `DuplicateSubscriptionFailed`, `SubscriptionLimitExceeded`, `ReplayConflictError`) — here a 400
 * invalid-request problem whose `errors[].message` is "Reason: details"; the 429 body
 * `{errors: [{code: 88, message}]}` (X's v1.1 rate-limit code); that a replay re-posts events X could
 * not deliver while the webhook was invalid; and the `replay_job_status` post at the end of a job
 * (documented for Account Activity replays).
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
  /** One window for every endpoint instead of X's documented per-endpoint limits (`rateLimits`). */
  rateLimit?: RateLimit;
  /** Per-endpoint overrides, keyed like `rateLimits` ('POST /2/webhooks/replay'). */
  rateLimits?: Record<string, RateLimit>;
  /** How many webhooks the app may register (X's lower tiers allow one). */
  maxWebhooks?: number;
  /** Time the CRC GET may take before it counts as failed (X's webhooks must answer within 10 s). */
  crcTimeoutMs?: number;
  /** X's clock for event times and replay windows (default Date.now): tests move it instead of waiting. */
  now?: () => number;
  /**
   * Where X really connects for a registered webhook URL. X accepts only https URLs without a port;
   * tests and `npm start` register e.g. https://bridge.localhost/webhooks/twitter and map it here to
   * the local http gateway.
   */
  resolveWebhookUrl?: (url: string) => string;
}

interface RateLimit {
  limit: number;
  windowSeconds: number;
}

/** X's documented limits (docs.x.com "Rate limits"), per user for user context, per app otherwise. */
const rateLimits: Record<string, RateLimit> = {
  'POST /2/dm_conversations/with/:participant_id/messages': { limit: 15, windowSeconds: 900 },
  'POST /2/webhooks': { limit: 450, windowSeconds: 900 },
  'GET /2/webhooks': { limit: 450, windowSeconds: 900 },
  'PUT /2/webhooks/:webhook_id': { limit: 450, windowSeconds: 900 },
  'DELETE /2/webhooks/:webhook_id': { limit: 450, windowSeconds: 900 },
  'POST /2/webhooks/replay': { limit: 100, windowSeconds: 900 },
  'POST /2/activity/subscriptions': { limit: 500, windowSeconds: 900 },
  'GET /2/activity/subscriptions': { limit: 500, windowSeconds: 900 },
  'DELETE /2/activity/subscriptions/:subscription_id': { limit: 500, windowSeconds: 900 },
  // DM lookup (polling mode): 15 requests per 15 minutes per user (DESIGN §2).
  'GET /2/dm_events': { limit: 15, windowSeconds: 900 },
};
const defaultRateLimit: RateLimit = { limit: 500, windowSeconds: 900 };

/** An X Activity API subscription as X lists it. */
interface ActivitySubscription {
  subscription_id: string;
  event_type: string;
  filter: { user_id?: string };
  tag?: string;
  webhook_id?: string;
  created_at: string;
  updated_at: string;
}

/** One POST of X to a webhook: live, or re-posted by a replay job. */
interface WebhookDelivery {
  webhookId: string;
  url: string;
  body: Buffer;
  /** X's clock when the event happened (replay windows select on it). */
  at: number;
  /** HTTP status the webhook answered; undefined when X did not post (webhook invalid) or it failed. */
  status?: number;
  replayJobId?: string;
}

interface ReplayJob {
  jobId: string;
  webhookId: string;
  from: number;
  to: number;
  createdAt: string;
  /** Settles once every event of the window (and the job status) was posted. */
  done: Promise<void>;
}

interface SentDm {
  participantId: string;
  text: string;
  attachments?: Array<{ media_id: string }>;
  dmConversationId: string;
  dmEventId: string;
  at: Date;
}

interface SimulatedWebhook {
  id: string;
  url: string;
  valid: boolean;
  created_at: string;
}

interface CrcAttempt {
  url: string;
  webhookId?: string;
  ok: boolean;
  /** Why it failed (status, body, timeout), for assertions and `status` output. */
  reason?: string;
  at: Date;
}

type InjectedFailure =
  | { status: 429; /** epoch seconds; default: now + 1 */ resetAt?: number }
  | { status: 401 }
  /** X blames the app: its OAuth 1.0a permissions do not cover the endpoint (problem type oauth1-permissions). */
  | { status: 403; problem: 'oauth1-permissions' }
  | { status: 500 | 502 | 503 | 504 };

interface ServedMedia {
  path: string;
  bytes: Buffer;
}

interface RecordedRequest {
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
  /** X Activity API subscriptions. */
  activitySubscriptions: ActivitySubscription[];
  /** Every delivery X made or tried (an invalid webhook gets none, but the event is kept for replay). */
  deliveries: WebhookDelivery[];
  replayJobs: ReplayJob[];
  /** Marks a webhook valid or invalid, as X does after CRC checks (tests flip it). */
  setWebhookValid(id: string, valid: boolean): void;
  /**
   * An X Activity API event for the account: delivered, signed, to every webhook with a matching
   * subscription (`event_type`, `filter.user_id`) in X's envelope. Returns the deliveries.
   */
  emitActivity(eventType: string, payload: unknown): Promise<WebhookDelivery[]>;
  /** A person's DM to the account, as `dm.received` (XAA) deliveries; the DM event id is returned. */
  receiveDm(dm: { senderId: string; username: string; name: string; text: string; eventId?: string }): Promise<{ eventId: string; deliveries: WebhookDelivery[] }>;
  /** DM lookup (`GET /2/dm_events`): the account's DM events, oldest first, and how tests add to them. */
  dmEvents: SimulatedDmEvent[];
  /** A DM (or another DM event) the company account receives; returns its event id. */
  addDmEvent(dm: NewDmEvent): string;
  /** The next `times` DM lookups answer with this failure (a 429 carries x-rate-limit-reset). */
  failDmLookupNext(times: number, failure: InjectedFailure | DmLookupForbidden): void;
  /** The next `times` API calls (DM sends, webhook and subscription calls) answer with this failure. */
  failNext(times: number, failure: InjectedFailure, only?: 'dm' | 'all'): void;
  /** Forgets DMs, webhooks, subscriptions, injected failures and the request log. */
  reset(): void;
  // --- DM media on ton.twitter.com (tickets mode attachments) ---
  /** Every media file served, in order (path and the exact bytes sent). */
  mediaServed: ServedMedia[];
  /** Serves these bytes at `path` (e.g. /1.1/ton/data/dm/…/x.jpg); other DM media paths get generated bytes. */
  setMedia(path: string, bytes: Buffer, contentType?: string): void;
  /** The next `count` media downloads answer `status`. */
  failMediaNext(count: number, status?: number): void;
  close(): Promise<void>;
}

const problem = {
  invalidRequest: 'https://api.x.com/2/problems/invalid-request',
  notFound: 'https://api.x.com/2/problems/resource-not-found',
  forbidden: 'https://api.x.com/2/problems/client-forbidden',
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

type Auth = 'user' | 'app' | 'either';

interface Route {
  method: string;
  pattern: RegExp;
  /** As X's rate-limit table names the endpoint: 'POST /2/webhooks/:webhook_id'. */
  name: string;
  auth: Auth;
  kind: 'dm' | 'management' | 'dm-lookup';
  handle(ctx: { params: string[]; body: unknown; url: URL; auth: 'user' | 'app' }): Promise<{ status: number; body?: unknown; headers?: Record<string, string> }>;
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

/** A failure reason X documents by name: 400, "Reason: details" in `errors[].message` (inferred shape). */
function reasonProblem(reason: string, details: string): HttpProblem {
  return new HttpProblem(400, {
    errors: [{ message: `${reason}: ${details}` }],
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


/** X's rate-limit answer (code 88, "Rate limit exceeded"). */
const rateLimited = { errors: [{ code: 88, message: 'Rate limit exceeded' }] };

/** DM media as X serves it from ton.twitter.com: /1.1/ton/data/dm/:dm_id/:media_id/:file. */
const DM_MEDIA_PATH = /^\/1\.1\/ton\/data\/dm\/\d+\/\d+\/[^/]+$/;

function snowflake(): string {
  return (BigInt(Date.now()) * 4_194_304n + BigInt(randomBytes(2).readUInt16BE(0))).toString();
}

export async function startXApiSimulator(options: XApiSimulatorOptions = {}): Promise<XApiSimulator> {
  const credentials: XApiCredentials = { ...simulatorCredentials, ...options.credentials };
  const accountId = options.accountId ?? credentials.accessToken.split('-')[0] ?? '1400000000000000001';
  const maxWebhooks = options.maxWebhooks ?? 1;
  const crcTimeoutMs = options.crcTimeoutMs ?? 10_000;
  const now = options.now ?? Date.now;
  const resolve = options.resolveWebhookUrl ?? ((url: string) => url);
  const limitOf = (name: string): RateLimit => options.rateLimits?.[name] ?? options.rateLimit ?? rateLimits[name] ?? defaultRateLimit;

  const dms: SentDm[] = [];
  const dmRefusers = new Set<string>();
  const webhooks: SimulatedWebhook[] = [];
  const subscriptions = new Map<string, Set<string>>();
  const crcAttempts: CrcAttempt[] = [];
  const requests: RecordedRequest[] = [];
  const failures: Array<{ failure: InjectedFailure; only: 'dm' | 'all' }> = [];
  const conversations = new Map<string, string>();
  const activitySubscriptions: ActivitySubscription[] = [];
  const deliveries: WebhookDelivery[] = [];
  const replayJobs: ReplayJob[] = [];
  /** One window per endpoint and caller (user for user context, the app otherwise), as X counts. */
  const windows = new Map<string, { resetAt: number; used: number }>();

  function rateWindow(key: string, rate: RateLimit): { resetAt: number; used: number } {
    const nowSeconds = Math.floor(Date.now() / 1000);
    let window = windows.get(key);
    if (!window || nowSeconds >= window.resetAt) {
      window = { resetAt: nowSeconds + rate.windowSeconds, used: 0 };
      windows.set(key, window);
    }
    return window;
  }

  function rateLimitHeaders(rate: RateLimit, window: { resetAt: number; used: number }): Record<string, string> {
    return {
      'x-rate-limit-limit': String(rate.limit),
      'x-rate-limit-remaining': String(Math.max(0, rate.limit - window.used)),
      'x-rate-limit-reset': String(window.resetAt),
    };
  }

  /** CRC exactly as X runs it: GET url?crc_token=…, expect 200 JSON with the HMAC of the token. */
  async function runCrc(url: string, webhookId?: string): Promise<CrcAttempt> {
    const token = randomBytes(24).toString('base64url');
    const target = new URL(resolve(url));
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
    return reasonProblem('CrcValidationFailed', 'Webhook URL does not meet the requirements. Invalid CRC token or json response format.');
  }

  /** X posts a signed body to the webhook; an invalid webhook gets nothing (the event is kept for replay). */
  async function post(hook: SimulatedWebhook, bodyValue: unknown, at: number, replayJobId?: string): Promise<WebhookDelivery> {
    const body = Buffer.from(JSON.stringify(bodyValue));
    const delivery: WebhookDelivery = { webhookId: hook.id, url: hook.url, body, at, replayJobId };
    deliveries.push(delivery);
    if (!hook.valid) return delivery;
    try {
      const res = await fetch(resolve(hook.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signPayload(credentials.consumerSecret, body) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      delivery.status = res.status;
    } catch {
      delivery.status = undefined;
    }
    return delivery;
  }

  async function emitActivity(eventType: string, payload: unknown): Promise<WebhookDelivery[]> {
    const at = now();
    const out: WebhookDelivery[] = [];
    for (const sub of activitySubscriptions.filter((s) => s.event_type === eventType && s.filter.user_id === accountId && s.webhook_id)) {
      const hook = webhooks.find((w) => w.id === sub.webhook_id);
      if (!hook) continue;
      const envelope = { data: { event_uuid: snowflake(), filter: sub.filter, event_type: eventType, ...(sub.tag ? { tag: sub.tag } : {}), payload } };
      out.push(await post(hook, envelope, at));
    }
    return out;
  }

  /** `yyyymmddhhmm` (UTC) → epoch ms, or undefined when it is not one. */
  function replayDate(value: unknown): number | undefined {
    const m = typeof value === 'string' ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value) : null;
    if (!m) return undefined;
    const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
    const ms = Date.UTC(y, mo - 1, d, h, mi);
    const back = new Date(ms);
    return back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h < 24 && mi < 60 ? ms : undefined;
  }

  /** Re-posts, in order, every event of the window (minute granularity, both ends inclusive), then the job status. */
  async function runReplay(job: Omit<ReplayJob, 'done'>): Promise<void> {
    const hook = findWebhook(job.webhookId);
    const events = deliveries.filter((d) => d.webhookId === job.webhookId && !d.replayJobId && d.at >= job.from && d.at < job.to + 60_000);
    let complete = true;
    for (const e of events) {
      const again = await post(hook, JSON.parse(e.body.toString('utf8')), e.at, job.jobId);
      complete &&= again.status !== undefined && again.status < 300;
    }
    const state = complete
      ? { job_state: 'Complete', job_state_description: 'Job completed successfully' }
      : { job_state: 'Incomplete', job_state_description: 'Job failed to deliver all events, please retry your replay job' };
    await post(hook, { replay_job_status: { webhook_id: hook.id, ...state, job_id: job.jobId } }, now(), job.jobId);
  }

  /** Event types X delivers only with the user's consent (docs.x.com "Event privacy and authentication"). */
  const privateEvent = (eventType: string) => /^(dm|chat)\./.test(eventType);
  const activityEventTypes = new Set(['dm.received', 'dm.sent', 'dm.read', 'dm.indicate_typing', 'chat.received', 'chat.sent', 'chat.conversation.join', 'oauth.revoke', 'follow.follow', 'follow.unfollow', 'profile.update.bio']);
  const maxActivitySubscriptions = 1500;
  const replayRunning = new Set<string>();

  function findWebhook(id: string): SimulatedWebhook {
    const hook = webhooks.find((w) => w.id === id);
    if (!hook) throw notFound('webhook', id);
    return hook;
  }

  const dmLookup = dmLookupBlock(accountId);

  const routes: Route[] = [
    dmLookup.route,
    {
      method: 'POST',
      pattern: /^\/2\/dm_conversations\/with\/([^/]+)\/messages$/,
      name: 'POST /2/dm_conversations/with/:participant_id/messages',
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
        dmLookup.recordSent(dm);
        return { status: 201, body: { data: { dm_conversation_id: dm.dmConversationId, dm_event_id: dm.dmEventId } } };
      },
    },
    {
      method: 'POST',
      pattern: /^\/2\/webhooks$/,
      name: 'POST /2/webhooks',
      auth: 'app',
      kind: 'management',
      async handle({ body }) {
        const url = (body as { url?: unknown } | undefined)?.url;
        if (typeof url !== 'string' || url.length > 200) throw invalidRequest('The `url` body parameter is required (at most 200 characters)', { url: [String(url ?? '')] });
        let parsed: URL | undefined;
        try {
          parsed = new URL(url);
        } catch {
          parsed = undefined;
        }
        // docs.x.com "Webhook requirements": https, no port.
        if (parsed?.protocol !== 'https:' || parsed.port !== '') throw reasonProblem('UrlValidationFailed', `The URL ${url} must use https and cannot include a port`);
        if (webhooks.some((w) => w.url === url)) throw reasonProblem('DuplicateUrlFailed', 'A webhook is already registered by your application for this URL');
        if (webhooks.length >= maxWebhooks) throw reasonProblem('WebhookLimitExceeded', `Your application has reached the maximum number of allowed webhooks (${maxWebhooks})`);
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
      name: 'GET /2/webhooks',
      auth: 'app',
      kind: 'management',
      async handle() {
        return { status: 200, body: { data: webhooks.map((w) => ({ ...w })), meta: { result_count: webhooks.length } } };
      },
    },
    {
      method: 'PUT',
      pattern: /^\/2\/webhooks\/([^/]+)$/,
      name: 'PUT /2/webhooks/:webhook_id',
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const hook = findWebhook(params[0]!);
        const crc = await runCrc(hook.url, hook.id);
        hook.valid = crc.ok;
        // docs.x.com: "A 200 OK response indicates the CRC check was initiated. The valid field reflects the status after the check attempt."
        return { status: 200, body: { data: { valid: hook.valid } } };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/2\/webhooks\/([^/]+)$/,
      name: 'DELETE /2/webhooks/:webhook_id',
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const hook = findWebhook(params[0]!);
        webhooks.splice(webhooks.indexOf(hook), 1);
        subscriptions.delete(hook.id);
        for (const sub of activitySubscriptions.filter((a) => a.webhook_id === hook.id)) activitySubscriptions.splice(activitySubscriptions.indexOf(sub), 1);
        return { status: 200, body: { data: { deleted: true } } };
      },
    },
    {
      method: 'POST',
      pattern: /^\/2\/account_activity\/webhooks\/([^/]+)\/subscriptions\/all$/,
      name: 'POST /2/account_activity/webhooks/:webhook_id/subscriptions/all',
      auth: 'user',
      kind: 'management',
      async handle({ params }) {
        const hook = findWebhook(params[0]!);
        if (!hook.valid) throw reasonProblem('CrcValidationFailed', 'The webhook is not valid: re-run the CRC check (PUT /2/webhooks/:id) first');
        const subs = subscriptions.get(hook.id) ?? new Set<string>();
        if (subs.has(accountId)) throw reasonProblem('DuplicateSubscriptionFailed', 'A subscription for this user already exists for the specified webhook_id');
        subs.add(accountId);
        subscriptions.set(hook.id, subs);
        return { status: 200, body: { data: { subscribed: true } } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/2\/account_activity\/webhooks\/([^/]+)\/subscriptions\/all$/,
      name: 'GET /2/account_activity/webhooks/:webhook_id/subscriptions/all',
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
      name: 'GET /2/account_activity/webhooks/:webhook_id/subscriptions/all/list',
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
      name: 'DELETE /2/account_activity/webhooks/:webhook_id/subscriptions/:user_id/all',
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const hook = findWebhook(params[0]!);
        const subs = subscriptions.get(hook.id);
        if (!subs?.delete(params[1]!)) throw notFound('subscription', params[1]!);
        return { status: 200, body: { data: { subscribed: false } } };
      },
    },

    // ---- X Activity API subscriptions and webhook replay (issue 10) ----
    {
      method: 'POST',
      pattern: /^\/2\/activity\/subscriptions$/,
      name: 'POST /2/activity/subscriptions',
      auth: 'either',
      kind: 'management',
      async handle({ body, auth }) {
        const b = (body ?? {}) as { event_type?: unknown; filter?: { user_id?: unknown }; tag?: unknown; webhook_id?: unknown };
        const eventType = b.event_type;
        if (typeof eventType !== 'string' || !activityEventTypes.has(eventType)) throw invalidRequest(`The \`event_type\` [${String(eventType)}] is not one of the documented event types`, { event_type: [String(eventType)] });
        const userId = b.filter?.user_id;
        if (eventType !== 'oauth.revoke' && (typeof userId !== 'string' || !/^\d{1,19}$/.test(userId))) throw invalidRequest('The `filter.user_id` must be a user id', { 'filter.user_id': [String(userId)] });
        if (b.tag !== undefined && (typeof b.tag !== 'string' || b.tag.length < 1 || b.tag.length > 200)) throw invalidRequest('The `tag` must be 1 to 200 characters', { tag: [String(b.tag)] });
        if (b.webhook_id !== undefined && (typeof b.webhook_id !== 'string' || !webhooks.some((w) => w.id === b.webhook_id))) throw reasonProblem('WebhookIdInvalid', `The webhook_id ${String(b.webhook_id)} was not found or is not associated with your app`);
        // Private events need the user's consent: user context of that very user (OAuth 1.0a here).
        if (privateEvent(eventType) && (auth !== 'user' || userId !== accountId)) {
          throw new HttpProblem(403, { ...errorBody(403, `${eventType} is a private event: subscribe with the user context of user ${String(userId)}`), title: 'Forbidden', type: problem.forbidden });
        }
        const filter = typeof userId === 'string' ? { user_id: userId } : {};
        const webhookId = b.webhook_id as string | undefined;
        if (activitySubscriptions.some((a) => a.event_type === eventType && a.filter.user_id === filter.user_id && a.webhook_id === webhookId)) {
          throw reasonProblem('DuplicateSubscriptionFailed', `A subscription for ${eventType} of this user already exists for the specified webhook_id`);
        }
        if (activitySubscriptions.length >= maxActivitySubscriptions) throw reasonProblem('SubscriptionLimitExceeded', 'The application has reached its subscription limit');
        const at = new Date(now()).toISOString();
        const sub: ActivitySubscription = { subscription_id: snowflake(), event_type: eventType, filter, ...(b.tag ? { tag: b.tag as string } : {}), ...(webhookId ? { webhook_id: webhookId } : {}), created_at: at, updated_at: at };
        activitySubscriptions.push(sub);
        // OpenAPI CreateActivitySubscriptionResponse: {data: {subscription}}.
        return { status: 200, body: { data: { subscription: { ...sub } } } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/2\/activity\/subscriptions$/,
      name: 'GET /2/activity/subscriptions',
      auth: 'either',
      kind: 'management',
      async handle() {
        return { status: 200, body: { data: activitySubscriptions.map((a) => ({ ...a })), meta: { total_subscriptions: activitySubscriptions.length } } };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/2\/activity\/subscriptions\/([^/]+)$/,
      name: 'DELETE /2/activity/subscriptions/:subscription_id',
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const sub = activitySubscriptions.find((a) => a.subscription_id === params[0]);
        if (!sub) throw notFound('subscription', params[0]!);
        activitySubscriptions.splice(activitySubscriptions.indexOf(sub), 1);
        return { status: 200, body: { data: { deleted: true }, meta: { total_subscriptions: activitySubscriptions.length } } };
      },
    },
    {
      method: 'POST',
      pattern: /^\/2\/webhooks\/replay$/,
      name: 'POST /2/webhooks/replay',
      auth: 'app',
      kind: 'management',
      async handle({ body }) {
        const b = (body ?? {}) as { webhook_id?: unknown; from_date?: unknown; to_date?: unknown };
        const hook = findWebhook(typeof b.webhook_id === 'string' ? b.webhook_id : String(b.webhook_id));
        const from = replayDate(b.from_date);
        const to = replayDate(b.to_date);
        if (from === undefined || to === undefined) throw reasonProblem('QueryParamInvalid', 'from_date or to_date is not in the yyyymmddhhmm format');
        if (from > to) throw reasonProblem('QueryParamInvalid', 'from_date is more recent than to_date');
        if (to > now()) throw reasonProblem('QueryParamInvalid', 'to_date is in the future');
        if (from < now() - 24 * 3600_000) throw reasonProblem('QueryParamInvalid', 'from_date is older than 24 hours');
        if (replayRunning.has(hook.id)) throw reasonProblem('ReplayConflictError', 'A replay job is already in progress for the specified webhook');
        const job = { jobId: snowflake(), webhookId: hook.id, from, to, createdAt: new Date(now()).toISOString() };
        replayRunning.add(hook.id);
        // The job runs after the answer, as X's does.
        const done = new Promise<void>((r) => setImmediate(r)).then(() => runReplay(job)).finally(() => replayRunning.delete(hook.id));
        replayJobs.push({ ...job, done });
        return { status: 200, body: { data: { job_id: job.jobId, created_at: job.createdAt } } };
      },
    },
  ];

  /** Verifies the Authorization header for the route's auth kind; undefined when accepted. */
  function authProblem(req: IncomingMessage, url: URL, routeAuth: Auth): string | undefined {
    const header = req.headers.authorization ?? '';
    const auth = routeAuth === 'either' ? (header.startsWith('Bearer ') ? 'app' : 'user') : routeAuth;
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
    let headers: Record<string, string> = {};
    const send = (status: number, body?: unknown, extra: Record<string, string> = {}) => {
      requests.push({ method: req.method ?? 'GET', path: url.pathname, status });
      res.writeHead(status, { ...headers, ...extra, ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }) });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };

    if (req.method === 'POST' && url.pathname === '/oauth2/token') return appToken(req, raw, send);
    if (req.method === 'GET' && DM_MEDIA_PATH.test(url.pathname)) return serveMedia(req, url, res);

    let params: string[] = [];
    const route = routes.find((r) => {
      const m = r.method === req.method ? r.pattern.exec(url.pathname) : null;
      if (m) params = m.slice(1).map(decodeURIComponent);
      return Boolean(m);
    });
    if (!route) return send(404, errorBody(404, `No route for ${req.method} ${url.pathname}`));

    const authError = authProblem(req, url, route.auth);
    if (authError) return send(401, errorBody(401, authError));
    const auth = (req.headers.authorization ?? '').startsWith('Bearer ') ? 'app' : 'user';
    const rate = limitOf(route.name);
    const window = rateWindow(`${route.name} ${auth}`, rate);
    headers = rateLimitHeaders(rate, window);

    const injected = failures[0];
    if (injected && (injected.only === 'all' || route.kind === 'dm')) {
      failures.shift();
      const f = injected.failure;
      if (f.status === 429) {
        const reset = String(f.resetAt ?? Math.floor(Date.now() / 1000) + 1);
        return send(429, rateLimited, { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': reset });
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

    if (window.used >= rate.limit) return send(429, rateLimited, { 'x-rate-limit-remaining': '0' });
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
      const out = await route.handle({ params, body, url, auth });
      return send(out.status, out.body, out.headers);
    } catch (err) {
      if (err instanceof HttpProblem) return send(err.status, err.body);
      return send(500, errorBody(500, (err as Error).message));
    }
  }

  // --- DM media on ton.twitter.com: opens only with the receiving account's OAuth 1.0a signature (DESIGN §2) ---
  const mediaServed: ServedMedia[] = [];
  const mediaFiles = new Map<string, { bytes: Buffer; contentType: string }>();
  let mediaFailures = { count: 0, status: 500 };

  function serveMedia(req: IncomingMessage, url: URL, res: ServerResponse): void {
    const reply = (status: number, body: Buffer | string, type: string) => {
      requests.push({ method: 'GET', path: url.pathname, status });
      res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    };
    const authError = authProblem(req, url, 'user');
    if (authError) return reply(401, JSON.stringify(errorBody(401, authError)), 'application/json');
    if (mediaFailures.count > 0) {
      mediaFailures.count--;
      return reply(mediaFailures.status, JSON.stringify(errorBody(mediaFailures.status)), 'application/json');
    }
    const file = mediaFiles.get(url.pathname) ?? {
      // Generated but stable per path: a JPEG start-of-image marker, then the path's own bytes.
      bytes: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), createHmac('sha256', 'media').update(url.pathname).digest(), Buffer.from(url.pathname)]),
      contentType: url.pathname.endsWith('.mp4') ? 'video/mp4' : url.pathname.endsWith('.gif') ? 'image/gif' : 'image/jpeg',
    };
    mediaServed.push({ path: url.pathname, bytes: file.bytes });
    reply(200, file.bytes, file.contentType);
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
    activitySubscriptions,
    deliveries,
    replayJobs,
    setWebhookValid(id, valid) {
      findWebhook(id).valid = valid;
    },
    emitActivity,
    async receiveDm(dm) {
      const eventId = dm.eventId ?? snowflake();
      const payload = {
        direct_message_events: [
          {
            type: 'message_create',
            id: eventId,
            created_timestamp: String(now()),
            message_create: { target: { recipient_id: accountId }, sender_id: dm.senderId, message_data: { text: dm.text, entities: { hashtags: [], symbols: [], user_mentions: [], urls: [] } } },
          },
        ],
        users: {
          [dm.senderId]: { data: { id: dm.senderId, username: dm.username, name: dm.name, protected: false, verified: false } },
          [accountId]: { data: { id: accountId, username: 'empresa_suporte', name: 'Empresa Suporte', protected: false, verified: true } },
        },
      };
      return { eventId, deliveries: await emitActivity('dm.received', payload) };
    },
    mediaServed,
    setMedia(path, bytes, contentType = 'image/jpeg') {
      mediaFiles.set(path, { bytes, contentType });
    },
    failMediaNext(count, status = 500) {
      mediaFailures = { count, status };
    },
    dmEvents: dmLookup.events,
    addDmEvent: dmLookup.add,
    failDmLookupNext: dmLookup.failNext,
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
      windows.clear();
      activitySubscriptions.length = 0;
      deliveries.length = 0;
      replayJobs.length = 0;
      replayRunning.clear();
      mediaServed.length = 0;
      mediaFiles.clear();
      mediaFailures = { count: 0, status: 500 };
      dmLookup.reset();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// DM lookup: GET /2/dm_events (polling mode). X's documented behaviour: user context (OAuth 1.0a
// accepted), newest first, 30 days back, `max_results` 1-100 (default 100), `pagination_token` from
// `meta.next_token`, `event_types` filter, `dm_event.fields` (default id, event_type, text),
// `expansions=sender_id,attachments.media_keys` → `includes.users` / `includes.media` with
// `user.fields` / `media.fields`. The token format is X's own (opaque); this one is inferred.

interface SimulatedDmEvent {
  id: string;
  event_type: 'MessageCreate' | 'ParticipantsJoin' | 'ParticipantsLeave';
  text?: string;
  sender_id: string;
  dm_conversation_id: string;
  created_at: string;
  participant_ids?: string[];
  attachments?: { media_keys: string[] };
  entities?: { urls: Array<{ start: number; end: number; url: string; expanded_url: string; display_url: string }> };
}

interface NewDmEvent {
  senderId: string;
  text?: string;
  /** The sender as includes.users describes it. */
  username?: string;
  name?: string;
  /** t.co links in the text and where they lead. */
  urls?: Array<{ url: string; expandedUrl: string }>;
  /** A photo: its ton.twitter.com URL. */
  mediaUrl?: string;
  eventType?: SimulatedDmEvent['event_type'];
  /** Default: the one-to-one conversation of the sender and the account. */
  conversationId?: string;
  createdAt?: Date;
}

/** A 403 to the lookup: by default X's "oauth1 app permissions" problem; `plain` leaves the reason out. */
type DmLookupForbidden = { status: 403; plain?: boolean };

const dmEventsPath = /^\/2\/dm_events$/;
const defaultDmFields = ['id', 'event_type', 'text'];

function dmLookupBlock(accountId: string) {
  const events: SimulatedDmEvent[] = [];
  const users = new Map<string, { id: string; name?: string; username?: string }>([
    [accountId, { id: accountId, name: 'Empresa Suporte', username: 'empresa_suporte' }],
  ]);
  const media = new Map<string, { media_key: string; type: string; url: string }>();
  const failures: Array<InjectedFailure | DmLookupForbidden> = [];
  let lastId = 0n;

  /** Snowflake-like and strictly increasing, so "newest first" is well defined. */
  function nextId(): string {
    const candidate = BigInt(Date.now()) * 4_194_304n;
    lastId = candidate > lastId ? candidate : lastId + 1n;
    return lastId.toString();
  }
  const oneToOne = (a: string, b: string) => (BigInt(a) < BigInt(b) ? `${a}-${b}` : `${b}-${a}`);

  function add(dm: NewDmEvent): string {
    const id = nextId();
    if (dm.username || dm.name || !users.has(dm.senderId)) users.set(dm.senderId, { id: dm.senderId, name: dm.name, username: dm.username });
    const text = dm.text ?? '';
    const urls = (dm.urls ?? []).flatMap((u) => {
      const start = text.indexOf(u.url);
      return start === -1 ? [] : [{ start, end: start + u.url.length, url: u.url, expanded_url: u.expandedUrl, display_url: u.expandedUrl.replace(/^https?:\/\//, '') }];
    });
    let attachments: SimulatedDmEvent['attachments'];
    if (dm.mediaUrl) {
      const key = `3_${nextId()}`;
      media.set(key, { media_key: key, type: 'photo', url: dm.mediaUrl });
      attachments = { media_keys: [key] };
    }
    const eventType = dm.eventType ?? 'MessageCreate';
    events.push({
      id,
      event_type: eventType,
      ...(eventType === 'MessageCreate' ? { text } : { participant_ids: [dm.senderId] }),
      sender_id: dm.senderId,
      dm_conversation_id: dm.conversationId ?? oneToOne(accountId, dm.senderId),
      created_at: (dm.createdAt ?? new Date()).toISOString(),
      ...(attachments ? { attachments } : {}),
      ...(urls.length ? { entities: { urls } } : {}),
    });
    return id;
  }

  const listParam = (url: URL, name: string) => url.searchParams.get(name)?.split(',').filter(Boolean);

  const route: Route = {
    method: 'GET',
    pattern: dmEventsPath,
    name: 'GET /2/dm_events',
    auth: 'user',
    kind: 'dm-lookup',
    async handle({ url }) {
      const failure = failures.shift();
      if (failure?.status === 429) {
        const reset = String(failure.resetAt ?? Math.floor(Date.now() / 1000) + 1);
        return { status: 429, body: errorBody(429), headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': reset } };
      }
      if (failure?.status === 403 && 'plain' in failure && failure.plain) return { status: 403, body: { ...errorBody(403, 'Forbidden.'), title: 'Forbidden' } };
      if (failure?.status === 403) {
        // What X answers an app without DM read permission (the sender's simulated 403 uses it too).
        return {
          status: 403,
          body: { ...errorBody(403, 'Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.'), title: 'Forbidden', type: 'https://api.twitter.com/2/problems/oauth1-permissions' },
        };
      }
      if (failure) return { status: failure.status, body: errorBody(failure.status) };

      const max = Number(url.searchParams.get('max_results') ?? 100);
      if (!Number.isInteger(max) || max < 1 || max > 100) throw invalidRequest(`The \`max_results\` query parameter value [${url.searchParams.get('max_results')}] is not between 1 and 100`, { max_results: [String(max)] });
      const token = url.searchParams.get('pagination_token');
      let before: bigint | undefined;
      if (token) {
        const decoded = /^older-than:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
        if (!decoded) throw invalidRequest(`The \`pagination_token\` query parameter value [${token}] is not valid`, { pagination_token: [token] });
        before = BigInt(decoded[1]!);
      }
      const types = listParam(url, 'event_types');
      const since = Date.now() - 30 * 86_400_000;
      const matching = [...events]
        .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
        .filter((e) => (!types || types.includes(e.event_type)) && Date.parse(e.created_at) >= since && (before === undefined || BigInt(e.id) < before));
      const page = matching.slice(0, max);
      const fields = new Set([...defaultDmFields, ...(listParam(url, 'dm_event.fields') ?? [])]);
      const data = page.map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => fields.has(k) || (k === 'participant_ids' && fields.has(k)))));
      const expansions = new Set(listParam(url, 'expansions') ?? []);
      const userFields = new Set(['id', ...(listParam(url, 'user.fields') ?? [])]);
      const mediaFields = new Set(['media_key', ...(listParam(url, 'media.fields') ?? [])]);
      const pick = <T extends object>(o: T, keep: Set<string>) => Object.fromEntries(Object.entries(o).filter(([k, v]) => keep.has(k) && v !== undefined));
      const includes: Record<string, unknown[]> = {};
      if (expansions.has('sender_id')) {
        const ids = [...new Set(page.map((e) => e.sender_id))];
        const found = ids.flatMap((id) => (users.has(id) ? [pick(users.get(id)!, userFields)] : []));
        if (found.length) includes.users = found;
      }
      if (expansions.has('attachments.media_keys')) {
        const found = page.flatMap((e) => e.attachments?.media_keys ?? []).flatMap((k) => (media.has(k) ? [pick(media.get(k)!, mediaFields)] : []));
        if (found.length) includes.media = found;
      }
      const more = matching.length > page.length;
      const meta = {
        result_count: page.length,
        ...(more ? { next_token: Buffer.from(`older-than:${page.at(-1)!.id}`).toString('base64url') } : {}),
      };
      return { status: 200, body: { ...(data.length ? { data } : {}), ...(Object.keys(includes).length ? { includes } : {}), meta } };
    },
  };

  return {
    events,
    route,
    add,
    /** The company's own DMs show up in its DM events too, as X shows them. */
    recordSent(dm: SentDm) {
      if (BigInt(dm.dmEventId) > lastId) lastId = BigInt(dm.dmEventId);
      events.push({
        id: dm.dmEventId,
        event_type: 'MessageCreate',
        text: dm.text,
        sender_id: accountId,
        dm_conversation_id: dm.dmConversationId,
        created_at: dm.at.toISOString(),
      });
    },
    failNext(times: number, failure: InjectedFailure | DmLookupForbidden) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    reset() {
      events.length = 0;
      failures.length = 0;
      media.clear();
    },
  };
}
