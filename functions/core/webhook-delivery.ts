import { accountActivitySchema, normaliseDelivery, type NormalisedDelivery } from './x-events';
import { verifySignature } from './x-signature';
import { isXaaBody, readXaaBody, type DeliveryNotice } from './xaa-events';

/**
 * Everything between X's POST and the queue, without I/O: size limit, signature over the raw
 * bytes (before any parsing), JSON and shape validation, normalisation. Never throws.
 */
export const MAX_BODY_BYTES = 512 * 1024;

export type DeliveryVerdict =
  | { accepted: true; delivery: NormalisedDelivery; notice?: DeliveryNotice }
  | { accepted: false; status: 400 | 401 | 413; reason: string };

/** `accountId`: the tenant's X account; an X Activity API delivery for another one is not forwarded. */
export function readDelivery(consumerSecret: string, rawBody: Buffer, signature: string | undefined, accountId: string): DeliveryVerdict {
  if (rawBody.length > MAX_BODY_BYTES) return { accepted: false, status: 413, reason: `body over ${MAX_BODY_BYTES} bytes` };
  if (!signature) return { accepted: false, status: 401, reason: 'missing x-twitter-webhooks-signature' };
  if (!verifySignature(consumerSecret, rawBody, signature)) return { accepted: false, status: 401, reason: 'invalid signature' };
  if (rawBody.length === 0) return { accepted: false, status: 400, reason: 'empty body' };
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { accepted: false, status: 400, reason: 'body is not valid JSON' };
  }
  if (isXaaBody(json)) {
    const xaa = readXaaBody(json, accountId);
    return xaa.ok ? { accepted: true, delivery: xaa.delivery, notice: xaa.notice } : { accepted: false, status: 400, reason: xaa.reason };
  }
  const parsed = accountActivitySchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.slice(0, 3).map((i) => i.path.join('.') || '(root)');
    return { accepted: false, status: 400, reason: `not an Account Activity delivery (${where.join(', ')})` };
  }
  return { accepted: true, delivery: normaliseDelivery(parsed.data) };
}
