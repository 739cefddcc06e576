import { randomBytes } from 'node:crypto';

/** A snowflake-like decimal id (time in the high bits, as X's ids). */
export function snowflake(): string {
  return (BigInt(Date.now()) * 4_194_304n + BigInt(randomBytes(2).readUInt16BE(0))).toString();
}
