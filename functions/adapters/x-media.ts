import { OAuth1Helper } from 'twitter-api-v2/dist/cjs/client-mixins/oauth1.helper';
import type { TenantSecret } from '../config';
import type { LeaseStore } from '../core/lease';
import type { SecretSource, WritableSecretSource } from './secrets';
import { describeFetchFailure } from './fetch-failure';
import { readBounded } from './bounded-read';
import { AUTHORIZE_HINT, OTHER_USER_CONTEXT_HINT, UNSUPPORTED_AUTH } from './x-errors';
import { X_CALL_TIMEOUT_MS, xClientSettings } from './x-client';
import { userAuth, type UserCredentials } from './x-user-auth';

/**
 * A DM's photo, GIF or video, downloaded with the company account's user context as the tenant
 * chose it (docs.x.com "DM Media Retrieval"): with OAuth 1.0a, the `ton.twitter.com` URL the DM
 * carries, signed (twitter-api-v2's OAuth 1.0a helper); with OAuth 2.0, the same file from API v2
 * `GET /2/dm_conversations/media/:dm_id/:media_id/:resource_id` (the URL's last three segments)
 * with the account's bearer token, refreshed through x-user-auth. X's v2 route refuses OAuth 1.0a
 * and ton.twitter.com knows only OAuth 1.0a. fetch reads the file, stopping at the tenant's size cap.
 */
export interface DownloadedMedia {
  bytes: Buffer;
  contentType?: string;
}

type MediaDownload = { ok: true; media: DownloadedMedia } | { ok: false; reason: string };

export interface XMediaDownloader {
  /** Never throws: a failure is a reason (the DM then keeps the link). */
  download(url: string, maxBytes: number): Promise<MediaDownload>;
}

export interface XMediaOptions {
  /** Another origin for ton.twitter.com and api.x.com (the X simulator in tests and `npm start`). */
  baseUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** OAuth 2.0 tenants: one token refresh at a time across processes (the conversation table's leases). */
  leases?: LeaseStore;
  now?: () => number;
}

/** Only X's DM media host gets a request with the company account's credentials. */
const MEDIA_HOST = 'ton.twitter.com';
const API_ORIGIN = 'https://api.x.com';
/** `/1.1/ton/data/dm/{dm_id}/{media_id}/{resource_id}`, with the v2 route's patterns for the three (OpenAPI DmEventId, MediaId, DmResourceId). */
const TON_DM_PATH = /^\/1\.1\/ton\/data\/dm\/(\d{1,19})\/(\d{1,19})\/([A-Za-z0-9_.-]{1,50})$/;
/** An error answer is read this far for its problem type: never the whole of a huge one. */
const ERROR_BODY_MAX_BYTES = 64 * 1024;

/** Why X refused the download, and which command fixes it when the user context is the problem. */
async function refusal(res: Response, kind: UserCredentials['kind']): Promise<string> {
  const body = await readBounded(res, ERROR_BODY_MAX_BYTES).catch(() => undefined);
  let type: unknown;
  try {
    type = body?.ok ? (JSON.parse(body.bytes.toString('utf8')) as { type?: unknown } | null)?.type : undefined;
  } catch {
    type = undefined; // ton.twitter.com may answer HTML
  }
  const status = `X answered HTTP ${res.status}`;
  if (typeof type === 'string' && UNSUPPORTED_AUTH.test(type)) return `${status}: ${OTHER_USER_CONTEXT_HINT}`;
  if (res.status !== 401 && res.status !== 403) return status;
  return kind === 'oauth2'
    ? `${status}: X refused the company account's OAuth 2.0 token for DM media (it needs dm.read, tweet.read, users.read): run ${AUTHORIZE_HINT}`
    : `${status}: X refused the company account's OAuth 1.0a keys for DM media on ${MEDIA_HOST}: check accessToken and accessTokenSecret in the tenant secret, or move the tenant to OAuth 2.0 (X's v2 media route): run ${AUTHORIZE_HINT}`;
}

export function createXMediaDownloader(secrets: SecretSource & Partial<Pick<WritableSecretSource, 'update'>>, options: XMediaOptions = {}): XMediaDownloader {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const origin = (options.baseUrl ?? API_ORIGIN).replace(/\/+$/, '');
  const auth = userAuth(secrets, { leases: options.leases, now: options.now, clientSettings: xClientSettings(options.baseUrl, X_CALL_TIMEOUT_MS) });

  /** The request for this file with the tenant's choice: the URL to fetch and its Authorization header. */
  function request(target: URL, credentials: UserCredentials): { url: string; headers: Record<string, string> } | string {
    if (credentials.kind === 'oauth2') {
      const segments = TON_DM_PATH.exec(target.pathname);
      if (!segments) return `not a DM media path X's v2 media route serves (${target.pathname})`;
      const [, dmId, mediaId, resourceId] = segments;
      return { url: `${origin}/2/dm_conversations/media/${dmId}/${mediaId}/${resourceId}`, headers: { authorization: `Bearer ${credentials.tokens}` } };
    }
    const url = options.baseUrl ? `${origin}${target.pathname}${target.search}` : target.toString();
    const { appKey, appSecret, accessToken, accessSecret } = credentials.tokens;
    const oauth = new OAuth1Helper({ consumerKeys: { key: appKey, secret: appSecret } });
    return { url, headers: oauth.toHeader(oauth.authorize({ url, method: 'GET' }, { key: accessToken, secret: accessSecret })) };
  }

  /** One GET with the tenant's current credentials; an OAuth 2.0 token X refuses (401) is refreshed and the GET tried once more. */
  async function fetchWith(target: URL, secret: TenantSecret): Promise<{ res: Response; kind: UserCredentials['kind'] } | string> {
    for (let attempt = 1; ; attempt++) {
      const credentials = await auth.credentials(secret);
      const req = request(target, credentials);
      if (typeof req === 'string') return req;
      const res = await doFetch(req.url, { headers: req.headers, signal: AbortSignal.timeout(timeoutMs) });
      if (res.status !== 401 || credentials.kind !== 'oauth2' || attempt > 1) return { res, kind: credentials.kind };
      await res.body?.cancel().catch(() => undefined);
      auth.refused(credentials);
    }
  }

  return {
    async download(url, maxBytes) {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return { ok: false, reason: 'not a URL' };
      }
      if (target.protocol !== 'https:' || target.hostname !== MEDIA_HOST) return { ok: false, reason: `not on ${MEDIA_HOST}: not downloaded with the account's credentials` };
      try {
        const got = await fetchWith(target, await secrets.get());
        if (typeof got === 'string') return { ok: false, reason: got };
        const { res, kind } = got;
        if (!res.ok) {
          const reason = await refusal(res, kind);
          // Keys rotated since the container started are read again for the next download.
          if (res.status === 401 || res.status === 403) secrets.invalidate();
          return { ok: false, reason };
        }
        const body = await readBounded(res, maxBytes);
        if (!body.ok) return body;
        return { ok: true, media: { bytes: body.bytes, contentType: res.headers.get('content-type') ?? undefined } };
      } catch (err) {
        return { ok: false, reason: describeFetchFailure(err, timeoutMs) };
      }
    },
  };
}
