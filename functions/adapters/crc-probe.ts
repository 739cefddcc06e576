import { randomBytes } from 'node:crypto';
import { answerCrc } from '../core/crc';

/** X's webhooks must answer within 10 s (docs.x.com "Webhook requirements"). */
const CRC_TIMEOUT_MS = 10_000;

/**
 * Runs CRC against the URL the way X does (GET with a random `crc_token`, expects 200 and the
 * HMAC-SHA256 of the token with the consumer secret): whether the deployed endpoint answers X now.
 * Used by `npm run x -- status` and the webhook-health function.
 */
export async function crcSelfCheck(url: string, consumerSecret: string, timeoutMs = CRC_TIMEOUT_MS): Promise<{ ok: boolean; message: string }> {
  const token = randomBytes(24).toString('base64url');
  const target = new URL(url);
  target.searchParams.set('crc_token', token);
  const started = Date.now();
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    const ms = Date.now() - started;
    const body = (await res.json().catch(() => ({}))) as { response_token?: unknown };
    const expected = answerCrc(consumerSecret, token);
    // X counts a 3xx as a failed check: so does this one (no redirect followed).
    if (res.status !== 200) return { ok: false, message: `FAILED: HTTP ${res.status} in ${ms} ms` };
    if (!expected.ok || body.response_token !== expected.body.response_token) {
      return { ok: false, message: `FAILED: wrong response_token in ${ms} ms (the deployed consumer secret differs from these keys?)` };
    }
    return { ok: true, message: `OK in ${ms} ms` };
  } catch (err) {
    return { ok: false, message: `FAILED: ${(err as Error).message}` };
  }
}
