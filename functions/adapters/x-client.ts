import { Agent as HttpAgent } from 'node:http';
import { TwitterApi, type ITwitterApiClientPlugin } from 'twitter-api-v2';
import { z } from 'zod';
import type { SecretSource, WritableSecretSource } from './secrets';
import type { XClient } from '../core/ports';
import type { LeaseStore } from '../core/lease';
import { classifyXError, XAuthError, XOutcomeUnknownError } from './x-errors';
import { userAuth, type UserCredentials } from './x-user-auth';

export { RecipientRefusedError, XAuthError } from './x-errors';

export interface XClientOptions {
  /** Another X API origin (the X simulator in tests and `npm start`); X's own when undefined. */
  baseUrl?: string;
  now?: () => number;
  /** The deadline of every X call, in ms (default X_CALL_TIMEOUT_MS). */
  timeoutMs?: number;
  /** OAuth 2.0 tenants: one token refresh at a time across processes (the conversation table's leases). */
  leases?: LeaseStore;
}

/**
 * No X call waits longer than this: a send to an X that never answers once hung the sender for
 * over 20 s, and a Lambda timeout is not counted as an attempt. X answers a DM send well within it.
 */
export const X_CALL_TIMEOUT_MS = 10_000;

/** X answers `{data: {dm_conversation_id, dm_event_id}}` (twitter-api-v2's typings omit `data`). */
const sentDmSchema = z.object({ data: z.object({ dm_event_id: z.string() }).passthrough() }).passthrough();

/** The latest events of a conversation, as far as the duplicate check reads them (fields vary: all optional but the id). */
const conversationEventsSchema = z.object({
  data: z.array(z.object({ id: z.string(), text: z.string().optional(), sender_id: z.string().optional(), created_at: z.string().optional() }).passthrough()).default([]),
});

/**
 * How many of the conversation's latest events the duplicate check reads: X bills each event read
 * ($0.010), so a few; the DM we may have sent is the newest of ours unless the person wrote since.
 */
const SENT_CHECK_EVENTS = 5;

const X_API_ORIGIN = 'https://api.x.com';

/**
 * A twitter-api-v2 plugin: every request gets the deadline (the library destroys the socket when
 * it stays silent that long) and, for the X simulator, another origin.
 */
export function xRequestSettings(baseUrl: string | undefined, timeoutMs: number): ITwitterApiClientPlugin {
  const origin = baseUrl?.replace(/\/+$/, '');
  return {
    onBeforeRequestConfig({ params }) {
      params.timeout ??= timeoutMs;
      // X's token endpoint takes a form (RFC 6749); twitter-api-v2 1.29 would send JSON there.
      if (params.url.endsWith('/2/oauth2/token')) params.forceBodyMode = 'url';
      if (origin && params.url.startsWith(X_API_ORIGIN)) params.url = origin + params.url.slice(X_API_ORIGIN.length);
    },
  };
}

/** The twitter-api-v2 settings for a client of X (or of the simulator at `baseUrl`) with the deadline. */
export function xClientSettings(baseUrl: string | undefined, timeoutMs: number) {
  return {
    plugins: [xRequestSettings(baseUrl, timeoutMs)],
    // twitter-api-v2 speaks https only unless given an http agent.
    ...(baseUrl?.startsWith('http:') ? { httpAgent: new HttpAgent({ keepAlive: true }) } : {}),
  };
}


/** Rejects with XOutcomeUnknownError when `work` has not settled within `ms` (a trickling answer beats the socket's idle timeout). */
async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new XOutcomeUnknownError(`X did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The tenant's twitter-api-v2 client in the user context of the company account it chose (OAuth
 * 1.0a, or OAuth 2.0 refreshed when due), built once per credentials: after an auth failure the
 * secret is re-read (keys may have been rotated since the container started) and a new client
 * built. Shared by every adapter that calls X as the company.
 */
export function companyXApi(secrets: SecretSource & Partial<Pick<WritableSecretSource, 'update'>>, options: XClientOptions = {}) {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? X_CALL_TIMEOUT_MS;
  const settings = xClientSettings(options.baseUrl, timeoutMs);
  const auth = userAuth(secrets, { leases: options.leases, now, clientSettings: settings });
  let cached: { key: unknown; client: TwitterApi } | undefined;
  return {
    /** Runs one call with the client within the deadline; X's errors come out as our error classes. */
    async call<T>(request: (api: TwitterApi) => Promise<T>): Promise<T> {
      const credentials: UserCredentials = await auth.credentials(await secrets.get());
      const { tokens } = credentials;
      const client = cached && cached.key === credentials.key ? cached.client : typeof tokens === 'string' ? new TwitterApi(tokens, settings) : new TwitterApi(tokens, settings);
      cached = { key: credentials.key, client };
      try {
        return await withDeadline(request(client), timeoutMs);
      } catch (err) {
        const classified = err instanceof XOutcomeUnknownError ? err : classifyXError(err, now());
        if (classified instanceof XAuthError) {
          secrets.invalidate();
          if (classified.status === 401) auth.refused(credentials);
        }
        throw classified;
      }
    },
  };
}

/** Text as compared by the duplicate check: X rewrites links (t.co) and may trim whitespace. */
const comparable = (text: string) => text.replace(/https?:\/\/\S+/g, '').replace(/\s+/g, ' ').trim();

export function createXClient(secrets: SecretSource, options: XClientOptions = {}): XClient {
  const x = companyXApi(secrets, options);
  return {
    async sendDm(participantId, text) {
      const out: unknown = await x.call((api) => api.v2.sendDmToParticipant(participantId, { text }));
      return { dmEventId: sentDmSchema.safeParse(out).data?.data.dm_event_id };
    },
    async findSentDm(participantId, text, sinceMs) {
      const out: unknown = await x.call((api) =>
        api.v2.get(`dm_conversations/with/${encodeURIComponent(participantId)}/dm_events`, {
          max_results: SENT_CHECK_EVENTS,
          event_types: 'MessageCreate',
          'dm_event.fields': 'id,text,sender_id,created_at',
        }),
      );
      const wanted = comparable(text);
      const events = conversationEventsSchema.safeParse(out).data?.data ?? [];
      const sent = events.find(
        (e) =>
          e.sender_id !== participantId &&
          e.text !== undefined &&
          comparable(e.text) === wanted &&
          (sinceMs === undefined || e.created_at === undefined || Date.parse(e.created_at) >= sinceMs),
      );
      return sent ? { dmEventId: sent.id } : undefined;
    },
  };
}
