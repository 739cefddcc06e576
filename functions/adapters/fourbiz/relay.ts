import type { RelaySettings } from '../../config';
import { fourbizHttpError, FourbizAuthError, TransientError } from '../../core/errors';
import { singleEventPayload, type InboundMessage } from '../../core/x-events';
import { SIGNATURE_HEADER, signPayload } from '../../core/x-signature';
import type { SecretSource } from '../secrets';
import type { FourbizClient } from '../../core/ports';
import { describeFetchFailure } from '../fetch-failure';
import { readBounded } from '../bounded-read';

/** The signature header X sends and 4biz's Omnichannel receiver verifies. */
/** Carries the DM event id, so a receiver can de-duplicate a delivery the bridge repeats (at least once). */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

export interface RelayOptions {
  fetch?: typeof fetch;
}

/** How much of a refusal's body is read for its excerpt: an error page of any size costs at most this. */
const EXCERPT_MAX_BYTES = 64 * 1024;

/** A short, single-line excerpt of a response body for the log (never the request body). */
async function excerpt(res: Response): Promise<string> {
  const body = await readBounded(res, EXCERPT_MAX_BYTES).catch(() => ({ ok: false as const, reason: 'unreadable' }));
  if (!body.ok) return `(body not read: ${body.reason})`;
  return body.bytes.toString('utf8').replace(/\s+/g, ' ').slice(0, 200);
}

/**
 * Relay mode: POSTs each inbound DM to the 4biz Omnichannel interaction's callback URL as X itself
 * would — an Account Activity payload with exactly that one DM event, its users and for_user_id,
 * signed with the consumer secret over the exact bytes sent. 4biz verifies the signature with the
 * same API secret it holds in its own form.
 */
export function createRelayClient(settings: RelaySettings, secrets: SecretSource, options: RelayOptions = {}): FourbizClient {
  const doFetch = options.fetch ?? fetch;
  return {
    mode: 'relay',
    async deliver(message: InboundMessage) {
      const body = Buffer.from(JSON.stringify(singleEventPayload(message)), 'utf8');
      const { consumerSecret } = await secrets.get();
      let res: Response;
      try {
        res = await doFetch(settings.callbackUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signPayload(consumerSecret, body), [IDEMPOTENCY_HEADER]: message.eventId },
          body,
          // A redirected POST would silently turn into a GET: a redirect is a configuration problem.
          redirect: 'manual',
          signal: AbortSignal.timeout(settings.timeoutMs),
        });
      } catch (err) {
        throw new TransientError(`4biz callback unreachable: ${describeFetchFailure(err, settings.timeoutMs)}`, undefined, undefined, { cause: err });
      }
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel();
        return {};
      }
      const detail = await excerpt(res);
      if (res.status === 401 || res.status === 403) {
        // 4biz refuses our signature/credentials: the DM is not at fault; retried while someone fixes the keys.
        secrets.invalidate();
        throw new FourbizAuthError(`4biz callback answered ${res.status}${detail ? `: ${detail}` : ''}: check the consumer secret 4biz holds`, res.status);
      }
      const reason =
        res.status >= 300 && res.status < 400
          ? `4biz callback answered ${res.status} redirect to ${res.headers.get('location') ?? '?'} (not followed: during a redeploy it points at a maintenance page; if it lasts, configure the final URL)`
          : `4biz callback answered ${res.status}${detail ? `: ${detail}` : ''}`;
      throw fourbizHttpError(res.status, reason, res.headers.get('content-type'));
    },
  };
}
