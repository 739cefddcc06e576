import { signPayload } from './x-signature';

/**
 * The shape of X's CRC tokens: the base64/base64url alphabet, 1–255 characters. Anything else is
 * refused, so the CRC endpoint can never sign a delivery body: webhook signatures are the same
 * HMAC over the body, and every JSON object or array contains characters (`{`, `[`, `"`, `:`)
 * outside this alphabet.
 */
const CRC_TOKEN_PATTERN = /^[A-Za-z0-9+/=_-]{1,255}$/;

export type CrcResult =
  | { ok: true; body: { response_token: string } }
  | { ok: false; reason: 'missing crc_token' | 'crc_token is not shaped like an X token' };

/** Answer to X's Challenge-Response Check: HMAC-SHA256 of the token with the consumer secret. */
export function answerCrc(consumerSecret: string, crcToken: string | undefined | null): CrcResult {
  if (!crcToken) return { ok: false, reason: 'missing crc_token' };
  if (!CRC_TOKEN_PATTERN.test(crcToken)) return { ok: false, reason: 'crc_token is not shaped like an X token' };
  return { ok: true, body: { response_token: signPayload(consumerSecret, crcToken) } };
}
