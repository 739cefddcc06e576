import type { z } from 'zod';
import { formatZodIssues } from './zod-issues';

export type QueueBody<T> = { ok: true; value: T } | { ok: false; reason: string };

/** An SQS message body read with its schema: a clear reason instead of a throw when it is not ours. */
export function parseQueueBody<T>(body: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>): QueueBody<T> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const parsed = schema.safeParse(json);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, reason: formatZodIssues(parsed.error) };
}
