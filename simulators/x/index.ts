import { accountActivityFamily } from './account-activity';
import { chatFamily, type ChatMessageRead, type ReceiveChat } from './chat';
import { type ActivitySubscription, activitySubscriptionsFamily } from './activity-subscriptions';
import { billingMeter, type BillingMeter } from './billing';
import { dmLookupFamily, type NewDmEvent, type SimulatedDmEvent } from './dm-lookup';
import { dmsFamily, type SentDm } from './dms';
import { FailureScript, type FailureTarget, type ScriptedFailure } from './failures';
import { mediaFamily, type ServedMedia } from './media';
import { oauthFamily, simulatorCredentials, type XApiCredentials } from './oauth';
import { createRouter, type RateLimit, type SentAnswer } from './router';
import { defaultSwitches, type XSwitches } from './switches';
import { type OAuth2Client, oauth2UserFamily, simulatorOAuth2Client, type XUser } from './oauth2-user';
import { type CrcAttempt, type ReplayJob, type SimulatedWebhook, type WebhookDelivery, webhooksFamily } from './webhooks';

/**
 * The X API v2 as the bridge and its operator CLI see it, on a real HTTP server (127.0.0.1, free
 * port), one module per API family: webhooks.ts, account-activity.ts, activity-subscriptions.ts,
 * dms.ts and dm-lookup.ts, media.ts, oauth.ts; router.ts serves them and failures.ts scripts X's
 * failures. Wire formats follow X's public documentation (docs.x.com, the OpenAPI document in the
 * repository xdevplatform/docs): `{data: ...}` bodies, errors as `{errors?, title, detail, type,
 * status}`, `x-rate-limit-*` headers on every answer and a window per endpoint with X's documented
 * limits. A new family is a function returning `{routes, reset}`, added to `families` below.
 *
 * Inferred, not documented: the 429 body `{errors: [{code: 88, message}]}` (X's v1.1 rate-limit code).
 *
 * Pointing twitter-api-v2 at it: `client.v2.setPrefix(`${sim.url}/2/`)`, and pass
 * `{ httpAgent: new http.Agent() }` as the client settings (the library only speaks https otherwise).
 */

export { simulatorCredentials, type XApiCredentials };

export interface XApiSimulatorOptions {
  credentials?: Partial<XApiCredentials>;
  /** The X app's OAuth 2.0 client (authorization code with PKCE, token refresh). */
  oauth2Client?: OAuth2Client;
  /** The id of the account the access token belongs to (the company account). */
  accountId?: string;
  /** The company account's handle and display name (`GET /2/users/me`). */
  accountUsername?: string;
  accountName?: string;
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
  /** Which of X's documented shapes to answer (also settable later on `sim.switches`). */
  switches?: Partial<XSwitches>;
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
  'GET /2/dm_conversations/with/:participant_id/dm_events': { limit: 15, windowSeconds: 900 },
};
const defaultRateLimit: RateLimit = { limit: 500, windowSeconds: 900 };

/** Failures the older helpers take (`failNext` and friends); `script` takes every ScriptedFailure. */
type InjectedFailure = Extract<ScriptedFailure, { status: 429 | 401 | 500 | 502 | 503 | 504 }> | { status: 403; problem: 'oauth1-permissions' };

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
  /** webhook id → subscribed user ids (Account Activity API). */
  subscriptions: Map<string, Set<string>>;
  crcAttempts: CrcAttempt[];
  requests: Array<{ method: string; path: string; status: number }>;
  /** X Activity API subscriptions. */
  activitySubscriptions: ActivitySubscription[];
  /** Every delivery X made or tried (an invalid webhook gets none, but the event is kept for replay). */
  deliveries: WebhookDelivery[];
  replayJobs: ReplayJob[];
  /** OAuth 2.0 user access tokens of the account that X accepts (`Authorization: Bearer …` in user context). */
  oauth2UserTokens: Set<string>;
  /** X's pay-per-use meter over everything served (billing.ts). */
  billing: BillingMeter;
  /** Every answer sent, with the route X names it by (the schema test validates them). */
  answers: SentAnswer[];
  /** Which of X's documented shapes the simulator answers (tests flip them). */
  switches: XSwitches;
  /** The OAuth 2.0 client the simulated app has. */
  oauth2Client: OAuth2Client;
  /** Every `POST /2/oauth2/token` user grant answered (authorization_code, refresh_token), in order. */
  oauth2Grants: Array<{ grantType: string; ok: boolean }>;
  /** Two hours pass: the OAuth 2.0 access tokens X issued stop working; refresh tokens stay good. */
  expireOAuth2AccessTokens(): void;
  /**
   * Who approves the app at x.com's authorize page from now on: another account (someone signed in
   * as themselves, not as the company), or the company account again (undefined, the default).
   */
  oauth2ApproveAs(user: XUser | undefined): void;
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
  /**
   * The next `times` calls to `target` (a route name such as 'GET /2/dm_events', a kind: 'dm',
   * 'management', 'dm-lookup', 'media', or 'all' API v2 calls) answer with this failure, in order.
   */
  script(target: FailureTarget, failure: ScriptedFailure, times?: number): void;
  /** The next `times` DM lookups answer with this failure (a 429 carries x-rate-limit-reset). */
  failDmLookupNext(times: number, failure: InjectedFailure | { status: 403; plain?: boolean }): void;
  /** The next `times` API calls (DM sends only, or every call) answer with this failure. */
  failNext(times: number, failure: InjectedFailure, only?: 'dm' | 'all'): void;
  // --- XChat (chat.ts): people with real chat-xdk keys writing to the company, reading its answers ---
  /** A person writes to the company in XChat: `chat.received` to the subscribed webhooks; the signed message id is returned. */
  receiveChat(message: ReceiveChat): Promise<{ messageId: string; deliveries: unknown[] }>;
  /** What the people's XChat clients read of the company's messages (decrypted and verified, or refused), in order. */
  chatRead: ChatMessageRead[];
  /** The company's XChat keys as the tenant secret holds them. */
  companyXChatKeys(): { keyBlob: string; publicKeyVersion: string };
  /** Forgets DMs, webhooks, subscriptions, scripted failures and the request log. */
  reset(): void;
  // --- DM media on ton.twitter.com (tickets mode attachments) ---
  /** Every media file served, in order (path and the exact bytes sent). */
  mediaServed: ServedMedia[];
  /** Serves these bytes at `path` (e.g. /1.1/ton/data/dm/…/x.jpg); other DM media paths get generated bytes. */
  setMedia(path: string, bytes: Buffer, contentType?: string): void;
  /** The next `count` media downloads answer `status`. */
  failMediaNext(count: number, status?: 500 | 502 | 503 | 504): void;
  close(): Promise<void>;
}

export async function startXApiSimulator(options: XApiSimulatorOptions = {}): Promise<XApiSimulator> {
  const credentials: XApiCredentials = { ...simulatorCredentials, ...options.credentials };
  const accountId = options.accountId ?? credentials.accessToken.split('-')[0] ?? '1400000000000000001';
  const now = options.now ?? Date.now;
  const requests: XApiSimulator['requests'] = [];
  const failures = new FailureScript();
  const switches: XSwitches = { ...defaultSwitches, ...options.switches };
  const billing = billingMeter(now);
  const answers: XApiSimulator['answers'] = [];

  const oauth = oauthFamily(credentials);
  const webhooks = webhooksFamily({ credentials, now, maxWebhooks: options.maxWebhooks ?? 1, crcTimeoutMs: options.crcTimeoutMs ?? 10_000, resolve: options.resolveWebhookUrl ?? ((url) => url), switches });
  const accountActivity = accountActivityFamily({ credentials, accountId, webhooks });
  const activity = activitySubscriptionsFamily({ accountId, now, webhooks, switches, billing });
  const dmLookup = dmLookupFamily(accountId);
  const dms = dmsFamily({ accountId, onSent: (dm) => dmLookup.recordSent(dm) });
  const media = mediaFamily();
  const chat = chatFamily({ accountId, emitActivity: activity.emitActivity });
  const oauth2Client = options.oauth2Client ?? simulatorOAuth2Client;
  const account: XUser = { id: accountId, username: options.accountUsername ?? 'empresa', name: options.accountName ?? 'Empresa' };
  const oauth2User = oauth2UserFamily({ client: oauth2Client, oauth, account, now });
  const families = [oauth, oauth2User, dmLookup, dms, webhooks, accountActivity, activity, media, chat];

  const router = createRouter({
    oauth,
    failures,
    requests,
    onAnswer(answer) {
      // A copy: the simulator's state (a webhook's valid flag…) changes after the answer went out.
      answers.push(structuredClone(answer));
      billing.onAnswer(answer);
    },
    limitOf: (name) => options.rateLimits?.[name] ?? options.rateLimit ?? rateLimits[name] ?? defaultRateLimit,
  });
  for (const family of families) router.add(...family.routes);
  const server = await router.listen();

  return {
    url: `http://127.0.0.1:${server.port}`,
    credentials,
    accountId,
    dms: dms.dms,
    dmRefusers: dms.dmRefusers,
    webhooks: webhooks.webhooks,
    subscriptions: accountActivity.subscriptions,
    crcAttempts: webhooks.crcAttempts,
    requests,
    activitySubscriptions: activity.activitySubscriptions,
    deliveries: webhooks.deliveries,
    replayJobs: webhooks.replayJobs,
    oauth2UserTokens: oauth.userTokens,
    switches,
    billing,
    answers,
    oauth2Client,
    oauth2Grants: oauth2User.grants,
    expireOAuth2AccessTokens: oauth2User.expireAccessTokens,
    oauth2ApproveAs: oauth2User.approveAs,
    setWebhookValid(id, valid) {
      webhooks.findWebhook(id).valid = valid;
    },
    emitActivity: activity.emitActivity,
    receiveDm: activity.receiveDm,
    dmEvents: dmLookup.events,
    addDmEvent: dmLookup.add,
    script: (target, failure, times = 1) => failures.add(target, failure, times),
    failDmLookupNext(times, failure) {
      const scripted: ScriptedFailure = failure.status === 403 ? ('plain' in failure && failure.plain ? { status: 403, plain: true } : { status: 403, problem: 'oauth1-permissions' }) : failure;
      failures.add('GET /2/dm_events', scripted, times);
    },
    failNext(times, failure, only = 'all') {
      failures.add(only, failure, times);
    },
    receiveChat: chat.receiveChat,
    chatRead: chat.read,
    companyXChatKeys: chat.companyKeys,
    mediaServed: media.mediaServed,
    setMedia: media.setMedia,
    failMediaNext(count, status = 500) {
      failures.add('media', { status }, count);
    },
    reset() {
      requests.length = 0;
      answers.length = 0;
      billing.reset();
      failures.clear();
      Object.assign(switches, defaultSwitches, options.switches);
      router.reset();
      for (const family of families) family.reset();
    },
    close: server.close,
  };
}
