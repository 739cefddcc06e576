import { Agent as HttpAgent } from 'node:http';
import { ApiResponseError, TwitterApi, type ITwitterApiClientPlugin } from 'twitter-api-v2';
import { z } from 'zod';
import { errorForHttpStatus, PermanentError, TransientError } from '../core/errors';
import type { TenantSecret } from '../config';
import type { SecretSource } from './secrets';
import type { XClient } from '../core/ports';

/**
 * X refused the tenant's keys or app (401, or a 403 that says the client is at fault): someone
 * must fix them; the reply is not at fault, so it is retried with back-off meanwhile.
 */
export class XAuthError extends TransientError {}

/** X refused this reply because the person does not accept DMs from the account (or blocked it). */
export class RecipientRefusedError extends PermanentError {}

/**
 * 403s where X blames the client (keys, app permissions, project enrolment), per X's documented
 * problem types and reasons; any other 403 on a DM send is the recipient refusing it.
 */
function blamesTheClient(data: unknown): boolean {
  const d = (data ?? {}) as { type?: unknown; reason?: unknown; detail?: unknown; errors?: unknown };
  const text = `${String(d.type ?? '')} ${String(d.reason ?? '')} ${String(d.detail ?? '')}`;
  return /unsupported-authentication|client-not-enrolled|official-client-forbidden|oauth1[- ]app permissions|oauth1-permissions/i.test(text);
}

export interface XClientOptions {
  /** Another X API origin (the X simulator in tests and `npm start`); X's own when undefined. */
  baseUrl?: string;
  now?: () => number;
}

/** When a 429 says to come back: x-rate-limit-reset (epoch seconds), else a minute from now. */
function retryAt(err: ApiResponseError, now: number): number {
  const header = err.headers?.['x-rate-limit-reset'];
  const reset = err.rateLimit?.reset ?? Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(reset) && reset > 0 ? reset * 1000 : now + 60_000;
}

/** twitter-api-v2's errors as our error classes: the sender decides from these alone. */
function classifyXError(err: unknown, now: number): Error {
  if (err instanceof ApiResponseError) {
    const status = err.code;
    const detail = `X answered HTTP ${status}${err.data?.title ? ` (${err.data.title})` : ''}`;
    if (status === 429) return new TransientError(`${detail}: rate limited`, status, retryAt(err, now));
    if (status === 401 || (status === 403 && blamesTheClient(err.data))) return new XAuthError(`${detail}: the tenant's X keys were refused`, status);
    if (status === 403) return new RecipientRefusedError(`${detail}: the person does not accept DMs from the account`, status);
    return errorForHttpStatus(status, detail);
  }
  // Network errors, timeouts and truncated answers.
  return new TransientError(`X API unreachable: ${(err as Error)?.message ?? String(err)}`);
}

/** X answers `{data: {dm_conversation_id, dm_event_id}}` (twitter-api-v2's typings omit `data`). */
const sentDmSchema = z.object({ data: z.object({ dm_event_id: z.string() }).passthrough() }).passthrough();

const X_API_ORIGIN = 'https://api.x.com';

/** A twitter-api-v2 plugin that sends every request to another origin (the X simulator). */
function redirectTo(baseUrl: string): ITwitterApiClientPlugin {
  const origin = baseUrl.replace(/\/+$/, '');
  return {
    onBeforeRequestConfig({ params }) {
      if (params.url.startsWith(X_API_ORIGIN)) params.url = origin + params.url.slice(X_API_ORIGIN.length);
    },
  };
}

function twitterClient(secret: TenantSecret, baseUrl: string | undefined): TwitterApi {
  return new TwitterApi(
    { appKey: secret.consumerKey, appSecret: secret.consumerSecret, accessToken: secret.accessToken, accessSecret: secret.accessTokenSecret },
    baseUrl
      ? {
          plugins: [redirectTo(baseUrl)],
          // twitter-api-v2 speaks https only unless given an http agent.
          ...(baseUrl.startsWith('http:') ? { httpAgent: new HttpAgent({ keepAlive: true }) } : {}),
        }
      : {},
  );
}

/**
 * The tenant's twitter-api-v2 client (OAuth 1.0a user context of the company account), built once
 * per secret value: after an auth failure the secret is re-read (keys may have been rotated since
 * the container started) and a new client built. Shared by every adapter that calls X as the company.
 */
export function companyXApi(secrets: SecretSource, options: XClientOptions = {}) {
  const now = options.now ?? Date.now;
  let cached: { secret: TenantSecret; client: TwitterApi } | undefined;
  return {
    /** Runs one call with the client; X's errors come out as our error classes. */
    async call<T>(request: (api: TwitterApi) => Promise<T>): Promise<T> {
      const secret = await secrets.get();
      if (cached?.secret !== secret) cached = { secret, client: twitterClient(secret, options.baseUrl) };
      try {
        return await request(cached.client);
      } catch (err) {
        const classified = classifyXError(err, now());
        if (classified instanceof XAuthError) secrets.invalidate();
        throw classified;
      }
    },
  };
}

export function createXClient(secrets: SecretSource, options: XClientOptions = {}): XClient {
  const x = companyXApi(secrets, options);
  return {
    async sendDm(participantId, text) {
      const out: unknown = await x.call((api) => api.v2.sendDmToParticipant(participantId, { text }));
      return { dmEventId: sentDmSchema.safeParse(out).data?.data.dm_event_id };
    },
  };
}
