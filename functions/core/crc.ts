import { signPayload } from './x-signature';

export type CrcResult =
  | { ok: true; body: { response_token: string } }
  | { ok: false; reason: 'missing crc_token' };

/** Answer to X's Challenge-Response Check: HMAC-SHA256 of the token with the consumer secret. */
export function answerCrc(consumerSecret: string, crcToken: string | undefined | null): CrcResult {
  if (!crcToken) return { ok: false, reason: 'missing crc_token' };
  return { ok: true, body: { response_token: signPayload(consumerSecret, crcToken) } };
}
