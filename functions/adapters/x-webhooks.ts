import { Agent } from 'node:http';
import { ApiRequestError, ApiResponseError, TwitterApi, type TwitterApiv2 } from 'twitter-api-v2';
import { z } from 'zod';
import type { TenantSecret } from '../config';
import type { XWebhookApi } from '../core/ports';
import { activitySubscriptionSchema, xWebhookSchema, type XActivitySubscription } from '../core/x-webhook-api';
import { ConfigurationError } from '../core/errors';
import { formatZodIssues } from '../core/zod-issues';
import { X_CALL_TIMEOUT_MS, xRequestSettings } from './x-client';
import { AUTHORIZE_HINT, OTHER_USER_CONTEXT_HINT, UNSUPPORTED_AUTH } from './x-errors';

/**
 * X's webhook, subscription and replay endpoints through twitter-api-v2: the company account's user
 * context for subscribing it (OAuth 1.0a, or OAuth 2.0 through `oauth2User`), the app bearer token for the rest (the secret's
 * `bearerToken`, or one fetched once with the consumer key and secret). Used by the operator CLI
 * (`npm run x`) and the webhook-health function.
 */
export type XWebhookKeys = Pick<TenantSecret, 'consumerKey' | 'consumerSecret' | 'accessToken' | 'accessTokenSecret' | 'bearerToken'>;

const webhookListSchema = z.object({ data: z.array(xWebhookSchema).default([]) });
const webhookCreatedSchema = z.object({ data: xWebhookSchema });
const validatedSchema = z.object({ data: z.object({ valid: z.boolean() }) });
const deletedSchema = z.object({ data: z.object({ deleted: z.boolean() }) });
const subscribedSchema = z.object({ data: z.object({ subscribed: z.boolean() }) });
const subscriptionListSchema = z.object({ data: z.object({ subscriptions: z.array(z.object({ user_id: z.string() })).default([]) }) });
// The OpenAPI document answers {data: {subscription}}; X's docs also show the subscription as `data`
// itself, and as `{data: [subscription], meta}`.
const activityCreatedSchema = z.object({
  data: z.union([
    z.object({ subscription: activitySubscriptionSchema }).transform((d) => d.subscription),
    z.array(activitySubscriptionSchema).min(1).transform((list) => list[0]!),
    activitySubscriptionSchema,
  ]),
});
const activityListSchema = z.object({ data: z.array(activitySubscriptionSchema).default([]), meta: z.object({ next_token: z.string().min(1).optional() }).passthrough().default({}) });
/** X's list holds at most 1,500 subscriptions per app in pages of up to 1,000: a few pages at most, never an endless walk. */
const MAX_ACTIVITY_PAGES = 10;
/** The WebhookConfig fields the bridge reads: X gives only its default fields unless asked. */
const WEBHOOK_FIELDS = { 'webhook_config.fields': 'created_at,id,url,valid' };
const replaySchema = z.object({ data: z.object({ job_id: z.string(), created_at: z.string() }) });
const bearerSchema = z.object({ token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'token_type is not bearer'), access_token: z.string().min(1) });

/** Calls in the company account's OAuth 2.0 user context (companyXApi: tokens refreshed and stored when due). */
interface UserContextRunner {
  call<T>(request: (api: TwitterApi) => Promise<T>): Promise<T>;
}

/** `oauth2User`: the tenant chose OAuth 2.0 (userAuth "oauth2"): user-context calls go through it instead of OAuth 1.0a. */
export function twitterWebhookApi(keys: XWebhookKeys, apiBaseUrl: string, oauth2User?: UserContextRunner): XWebhookApi {
  // Every call has the deadline of the bridge's X calls.
  const settings = { plugins: [xRequestSettings(undefined, X_CALL_TIMEOUT_MS)], ...(apiBaseUrl.startsWith('http:') ? { httpAgent: new Agent({ keepAlive: false }) } : {}) };
  // Every call names the prefix: the library would otherwise always call api.x.com.
  const at = { prefix: `${apiBaseUrl}/2/` };
  const oauth1User = () => {
    const { accessToken, accessTokenSecret } = keys;
    if (!accessToken || !accessTokenSecret) {
      throw new ConfigurationError(`the company account's user context is missing: the secret has no OAuth 1.0a accessToken/accessTokenSecret and no OAuth 2.0 tokens (run ${AUTHORIZE_HINT})`);
    }
    return new TwitterApi({ appKey: keys.consumerKey, appSecret: keys.consumerSecret, accessToken, accessSecret: accessTokenSecret }, settings).v2;
  };
  const userPost = async (path: string, body?: Record<string, unknown>) => (oauth2User ? oauth2User.call((api) => api.v2.post(path, body)) : oauth1User().post(path, body, at));

  let app: Promise<TwitterApiv2> | undefined;
  const appClient = () =>
    (app ??= (async () => new TwitterApi(keys.bearerToken ?? (await fetchBearerToken(keys, apiBaseUrl)), settings).v2)().catch((err: unknown) => {
      app = undefined;
      throw err;
    }));
  const id = encodeURIComponent;

  return {
    async listWebhooks() {
      return webhookListSchema.parse(await (await appClient()).get('webhooks', WEBHOOK_FIELDS, at)).data;
    },
    async createWebhook(url) {
      return webhookCreatedSchema.parse(await (await appClient()).post('webhooks', { url }, at)).data;
    },
    async validateWebhook(webhookId) {
      try {
        return validatedSchema.parse(await (await appClient()).put(`webhooks/${id(webhookId)}`, undefined, at)).data.valid;
      } catch (err) {
        // X may answer a failed check as the failure it names: the webhook is invalid, the check itself worked.
        if (xErrorReasons(err).includes('CrcValidationFailed')) return false;
        throw err;
      }
    },
    async deleteWebhook(webhookId) {
      return deletedSchema.parse(await (await appClient()).delete(`webhooks/${id(webhookId)}`, undefined, at)).data.deleted;
    },
    async subscribe(webhookId) {
      return subscribedSchema.parse(await userPost(`account_activity/webhooks/${id(webhookId)}/subscriptions/all`)).data.subscribed;
    },
    async listSubscriptions(webhookId) {
      const out = subscriptionListSchema.parse(await (await appClient()).get(`account_activity/webhooks/${id(webhookId)}/subscriptions/all/list`, undefined, at));
      return out.data.subscriptions.map((s) => s.user_id);
    },
    async unsubscribe(webhookId, userId) {
      await (await appClient()).delete(`account_activity/webhooks/${id(webhookId)}/subscriptions/${id(userId)}/all`, undefined, at);
    },
    async createActivitySubscription({ eventType, userId, webhookId, tag }) {
      const body = { event_type: eventType, filter: userId ? { user_id: userId } : {}, tag, webhook_id: webhookId };
      // DM and chat events are private: X wants the user's own context (OAuth 1.0a accepted).
      return activityCreatedSchema.parse(await userPost('activity/subscriptions', body)).data;
    },
    async listActivitySubscriptions() {
      const all: XActivitySubscription[] = [];
      let token: string | undefined;
      for (let page = 0; page < MAX_ACTIVITY_PAGES; page++) {
        const out = activityListSchema.parse(await (await appClient()).get('activity/subscriptions', { max_results: 1000, ...(token ? { pagination_token: token } : {}) }, at));
        all.push(...out.data);
        token = out.meta.next_token;
        if (!token) return all;
      }
      throw new Error(`X's subscription list goes on past ${MAX_ACTIVITY_PAGES} pages: not read further`);
    },
    async deleteActivitySubscription(subscriptionId) {
      await (await appClient()).delete(`activity/subscriptions/${id(subscriptionId)}`, undefined, at);
    },
    async replay(webhookId, window) {
      const out = replaySchema.parse(await (await appClient()).post('webhooks/replay', { webhook_id: webhookId, from_date: window.fromDate, to_date: window.toDate }, at));
      return { jobId: out.data.job_id, createdAt: out.data.created_at };
    },
  };
}

/** OAuth 2.0 client credentials: the app bearer token, for secrets that do not hold one. */
export async function fetchBearerToken(keys: Pick<XWebhookKeys, 'consumerKey' | 'consumerSecret'>, apiBaseUrl: string): Promise<string> {
  const basic = Buffer.from(`${encodeURIComponent(keys.consumerKey)}:${encodeURIComponent(keys.consumerSecret)}`).toString('base64');
  const res = await fetch(`${apiBaseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
    body: 'grant_type=client_credentials',
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`X refused the app bearer token request (HTTP ${res.status}): check the consumer key and secret`);
  const token = bearerSchema.safeParse(await res.json().catch(() => undefined));
  if (!token.success) throw new Error(`X's answer to the app bearer token request is not a bearer token (${formatZodIssues(token.error)})`);
  return token.data.access_token;
}

/** X's named failure reasons in an error answer: `errors[].message` "Reason: details" → "Reason". */
export function xErrorReasons(failure: unknown): string[] {
  const err = answerOf(failure);
  if (!(err instanceof ApiResponseError)) return [];
  const errors = ((err.data ?? {}) as { errors?: Array<{ message?: string }> }).errors ?? [];
  return errors.map((e) => /^([A-Z][A-Za-z]+):/.exec(e.message ?? '')?.[1]).filter((r): r is string => Boolean(r));
}

/** What to do about each failure reason X documents. */
const reasonHints: Record<string, string> = {
  CrcValidationFailed: 'X could not validate the URL: check that the stack is deployed, that the secret holds this consumer secret, and run status',
  UrlValidationFailed: 'X accepts only https URLs without a port',
  DuplicateUrlFailed: 'this app already has a webhook for this URL (see status)',
  WebhookLimitExceeded: "the app has as many webhooks as its tier allows: unregister one it no longer needs",
  SubscriptionLimitExceeded: "the app has as many subscriptions as its tier allows: remove ones it no longer needs",
  DuplicateSubscriptionFailed: 'the account is already subscribed',
  WebhookIdInvalid: 'X does not know this webhook id for this app (see status)',
  ReplayConflictError: 'a replay job is already running for this webhook: wait for it to finish',
  QueryParamInvalid: "the replay window is outside X's limits (last 24 h, not in the future)",
};

const httpTitles: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 429: 'Too Many Requests' };

/** X's own answer: the error itself, or the one our error classes keep as their cause (OAuth 2.0 calls go through companyXApi). */
const answerOf = (err: unknown): unknown => (!(err instanceof ApiResponseError) && (err as Error)?.cause instanceof ApiResponseError ? (err as Error).cause : err);

/** One line for an X error answer: status, title, detail, the per-field messages and what to do. */
export function describeXError(failure: unknown): string {
  const err = answerOf(failure);
  if (err instanceof ApiResponseError) {
    const data = (err.data ?? {}) as { title?: string; detail?: string; errors?: Array<{ message?: string; detail?: string; code?: number }> };
    const title = data.title ?? httpTitles[err.code] ?? err.message;
    const reasons = (data.errors ?? []).map((e) => e.message ?? e.detail).filter((m): m is string => Boolean(m));
    const detail = [data.detail, ...reasons].filter((s) => s && s !== title).join(' — ');
    const hints = xErrorReasons(err).map((r) => reasonHints[r]).filter((h): h is string => Boolean(h));
    const type = (err.data as { type?: unknown } | undefined)?.type;
    const hint =
      typeof type === 'string' && UNSUPPORTED_AUTH.test(type)
        ? ` (${OTHER_USER_CONTEXT_HINT})`
        : err.code === 401
        ? ` (check the keys: consumer key/secret, access token/secret, bearer token; with OAuth 2.0 run ${AUTHORIZE_HINT} again)`
        : err.code === 429
          ? ` (rate limited until ${rateLimitReset(err)})`
          : hints.length
            ? ` (${hints.join('; ')})`
            : '';
    return `X API answered ${err.code} ${title}${detail ? `: ${detail}` : ''}${hint}`;
  }
  if (err instanceof ApiRequestError) return `cannot reach the X API: ${err.requestError.message}`;
  if (err instanceof z.ZodError) return `unexpected answer from the X API: ${formatZodIssues(err)}`;
  return (err as Error).message ?? String(err);
}

function rateLimitReset(err: ApiResponseError): string {
  const reset = err.rateLimit?.reset ?? Number(err.headers?.['x-rate-limit-reset']);
  return Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000).toISOString() : 'later';
}
