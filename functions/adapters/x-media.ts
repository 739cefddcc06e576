import { OAuth1Helper } from 'twitter-api-v2/dist/cjs/client-mixins/oauth1.helper';
import type { SecretSource } from './secrets';
import { describeFetchFailure } from './fetch-failure';
import { readBounded } from './bounded-read';

/**
 * A DM's photo, GIF or video as X serves it: `ton.twitter.com` opens only for an OAuth 1.0a-signed
 * GET by the receiving account (DESIGN §2). twitter-api-v2's OAuth 1.0a helper signs it; fetch
 * reads it, stopping at the tenant's size cap.
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
  /** Another origin for ton.twitter.com (the X simulator in tests and `npm start`). */
  baseUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Only X's DM media host gets a request signed with the company account's keys. */
const MEDIA_HOST = 'ton.twitter.com';

export function createXMediaDownloader(secrets: SecretSource, options: XMediaOptions = {}): XMediaDownloader {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async download(url, maxBytes) {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return { ok: false, reason: 'not a URL' };
      }
      if (target.protocol !== 'https:' || target.hostname !== MEDIA_HOST) return { ok: false, reason: `not on ${MEDIA_HOST}: not downloaded with the account's keys` };
      const fetched = options.baseUrl ? `${options.baseUrl.replace(/\/+$/, '')}${target.pathname}${target.search}` : target.toString();
      try {
        const secret = await secrets.get();
        const oauth = new OAuth1Helper({ consumerKeys: { key: secret.consumerKey, secret: secret.consumerSecret } });
        const auth = oauth.authorize({ url: fetched, method: 'GET' }, { key: secret.accessToken, secret: secret.accessTokenSecret });
        const res = await doFetch(fetched, { headers: oauth.toHeader(auth), signal: AbortSignal.timeout(timeoutMs) });
        if (!res.ok) {
          await res.body?.cancel().catch(() => undefined);
          return { ok: false, reason: `X answered HTTP ${res.status}` };
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
