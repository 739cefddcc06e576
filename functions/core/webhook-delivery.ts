import { z } from 'zod';
import { accountActivitySchema, normaliseDelivery, type NormalisedDelivery } from './x-events';
import { xUserIdSchema } from './x-users';
import { verifySignature } from './x-signature';
import { isXaaBody, readXaaBody, type DeliveryNotice } from './xaa-events';
import type { EncryptedChatMessage } from './xchat';
import { formatZodIssues } from './zod-issues';

/**
 * Everything between X's POST and the queue, without I/O: size limit, signature over the raw
 * bytes (before any parsing), JSON and shape validation, the tenant's account, normalisation.
 * Never throws.
 */
/**
 * API Gateway's own payload limit (10 MB for HTTP APIs): a bound on what is read, so no signed
 * delivery X can send is refused for its size. A DM always fits one SQS message (its text is at
 * most 10,000 characters), and what the queue still refuses is answered 503, never 4xx.
 */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * The deepest nesting a delivery may have. X's deepest is about 8 levels; an unknown field nested
 * 100,000 deep would overflow the stack when the message is serialised for the queue (a 5xx on
 * every X retry), so it is refused up front.
 */
const MAX_JSON_DEPTH = 32;

/**
 * Accepted: answered 200 once the delivery's inbound messages are queued. A `notice` says why a
 * correctly signed delivery forwards nothing (another X account's, an encrypted DM, a revoked
 * app…): still 200, so X stops retrying, and logged and counted by the webhook.
 */
export type DeliveryVerdict =
  | { accepted: true; delivery: NormalisedDelivery; notice?: DeliveryNotice; chat?: EncryptedChatMessage }
  | { accepted: false; status: 400 | 401 | 413; reason: string };

const nothing: NormalisedDelivery = { messages: [], skipped: [], ignoredKinds: [] };

export interface DeliveryContext {
  consumerSecret: string;
  /** The tenant's X account: deliveries for any other `for_user_id` are dropped. */
  accountId: string;
  /** When the delivery arrived (ms), for the conversation bookkeeping of DMs dated in the future. */
  receivedAtMs: number;
  /** The tenant reads XChat (`x.xchat`): chat.received is queued, not just counted. */
  xchat?: boolean;
  /**
   * How long processed records live (ms): a DM created longer ago than this could no longer be
   * recognised as delivered, so it is skipped (`too-old`) instead of queued. X re-delivers at most
   * 24 hours back; an older DM is a captured delivery sent again.
   */
  maxAgeMs: number;
}

/** The delivery's DMs created within `maxAgeMs` of its arrival; the others skipped as `too-old`. */
function withoutStale(delivery: NormalisedDelivery, ctx: DeliveryContext): NormalisedDelivery {
  const stale = delivery.messages.filter((m) => ctx.receivedAtMs - Number(m.createdTimestamp) > ctx.maxAgeMs);
  if (stale.length === 0) return delivery;
  return {
    ...delivery,
    messages: delivery.messages.filter((m) => !stale.includes(m)),
    skipped: [...delivery.skipped, ...stale.map((m) => ({ eventId: m.eventId, reason: 'too-old' as const }))],
  };
}

/**
 * Account Activity's revoke delivery: `{"user_event": {"revoke": {date_time, target: {app_id},
 * source: {user_id}}}}`, without `for_user_id` (docs.x.com, Account Activity data objects).
 */
const aaaRevokeSchema = z.object({
  user_event: z.object({ revoke: z.object({ source: z.object({ user_id: xUserIdSchema }).passthrough() }).passthrough() }).passthrough(),
});

/** True when the JSON value nests deeper than `max` (iterative: a hostile value cannot overflow the stack here). */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

export function readDelivery(ctx: DeliveryContext, rawBody: Buffer, signature: string | undefined): DeliveryVerdict {
  if (rawBody.length > MAX_BODY_BYTES) return { accepted: false, status: 413, reason: `body over ${MAX_BODY_BYTES} bytes` };
  if (!signature) return { accepted: false, status: 401, reason: 'missing x-twitter-webhooks-signature' };
  if (!verifySignature(ctx.consumerSecret, rawBody, signature)) return { accepted: false, status: 401, reason: 'invalid signature' };
  if (rawBody.length === 0) return { accepted: false, status: 400, reason: 'empty body' };
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { accepted: false, status: 400, reason: 'body is not valid JSON' };
  }
  if (nestsDeeperThan(json, MAX_JSON_DEPTH)) return { accepted: false, status: 400, reason: `body nests deeper than ${MAX_JSON_DEPTH} levels` };
  // An X Activity API delivery stands for an Account Activity body (dm.*) or for nothing to forward.
  if (isXaaBody(json)) {
    const xaa = readXaaBody(json, ctx.accountId, { xchat: ctx.xchat, receivedAtMs: ctx.receivedAtMs });
    if (!xaa.ok) return { accepted: false, status: 400, reason: xaa.reason };
    if ('notice' in xaa) return { accepted: true, delivery: nothing, notice: xaa.notice };
    if ('chat' in xaa) return { accepted: true, delivery: nothing, chat: xaa.chat };
    json = xaa.accountActivity;
  }
  const revoke = aaaRevokeSchema.safeParse(json);
  if (revoke.success) {
    const userId = revoke.data.user_event.revoke.source.user_id;
    return { accepted: true, delivery: nothing, notice: userId === ctx.accountId ? { kind: 'access-revoked', userId } : { kind: 'foreign-account', eventType: 'user_event.revoke', userId } };
  }
  const parsed = accountActivitySchema.safeParse(json);
  if (!parsed.success) {
    const where = formatZodIssues(parsed.error, { limit: 3, pathsOnly: true });
    return { accepted: false, status: 400, reason: `not an Account Activity delivery (${where})` };
  }
  if (parsed.data.for_user_id !== ctx.accountId) {
    return { accepted: true, delivery: nothing, notice: { kind: 'foreign-account', eventType: 'account_activity', userId: parsed.data.for_user_id } };
  }
  try {
    return { accepted: true, delivery: withoutStale(normaliseDelivery(parsed.data, ctx.receivedAtMs), ctx) };
  } catch (err) {
    // A delivery we cannot read is X's (or a forger's) problem, never a 5xx that X retries for ever.
    return { accepted: false, status: 400, reason: `unreadable delivery: ${(err as Error).message}` };
  }
}
