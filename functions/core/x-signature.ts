import { createHmac, timingSafeEqual } from 'node:crypto';

/** The route X calls for CRC (GET) and deliveries (POST): the stack's API, the local gateway and the docs use this one. */
export const WEBHOOK_PATH = '/webhooks/twitter';

/** The header carrying a delivery's signature (X's to us, ours to 4biz's Omnichannel receiver). */
export const SIGNATURE_HEADER = 'x-twitter-webhooks-signature';

/** `sha256=` + base64(HMAC-SHA256(consumer secret, payload)): X's webhook signature and CRC token. */
export function signPayload(consumerSecret: string, payload: Buffer | string): string {
  return `sha256=${createHmac('sha256', consumerSecret).update(payload).digest('base64')}`;
}

/**
 * Verifies `x-twitter-webhooks-signature` over the raw body bytes. Timing-safe; false (never a
 * throw) for a missing, malformed or wrong header.
 */
export function verifySignature(consumerSecret: string, rawBody: Buffer, header: string | undefined): boolean {
  if (!header || !header.startsWith('sha256=')) return false;
  const expected = Buffer.from(signPayload(consumerSecret, rawBody));
  const given = Buffer.from(header.trim());
  return expected.length === given.length && timingSafeEqual(expected, given);
}
