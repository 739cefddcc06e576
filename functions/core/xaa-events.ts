import { z } from 'zod';
import { v1UserFromV2, v2UserSchema, xUserIdSchema, type V1User } from './x-users';
import { chatReceivedPayloadSchema, encryptedChatMessage, type EncryptedChatMessage } from './xchat';
import { formatZodIssues } from './zod-issues';

/**
 * The X Activity API (XAA) delivery: one event per POST, in an envelope
 * `{"data": {event_uuid, filter: {user_id}, event_type, tag, payload}}` (X's "X Activity API event
 * payload examples"; fixtures test/fixtures/xaa-*.json). A `dm.received`/`dm.sent` payload holds
 * AAA-style `direct_message_events` and a `users` map of v2 users under `data`: it is rebuilt here
 * as the Account Activity body it stands for (`for_user_id` = `filter.user_id`, users converted to
 * v1.1) and normalised by the AAA code, so both APIs give the same inbound messages (same event id,
 * so the same DM by AAA, by XAA or by a replay is de-duplicated downstream) and relay mode forwards
 * the AAA shape 4biz knows.
 */
const xaaEnvelopeSchema = z
  .object({
    data: z
      .object({
        // X's examples include negative ones ("-6850472171600526495"): any short string (or number) names the delivery.
        event_uuid: z.union([z.string().min(1).max(64), z.number()]).transform(String).optional(),
        // oauth.revoke has an empty filter (its payload names the user).
        filter: z.object({ user_id: xUserIdSchema.optional() }).passthrough(),
        event_type: z.string().min(1).max(100),
        tag: z.string().max(200).optional(),
        payload: z.unknown(),
      })
      .passthrough(),
  })
  .passthrough();

const dmPayloadSchema = z
  .object({
    direct_message_events: z.array(z.unknown()).max(1000),
    // Content, not authenticity: entries are read one by one (readUsers), a bad one is left out.
    users: z.record(z.string(), z.unknown()).default({}),
  })
  .passthrough();

/**
 * The payload's users as v1.1 users, keyed by each user's own id (a key cannot relabel a user). X
 * says field availability varies: an entry without `data` (the v2 user itself, or nothing usable)
 * or without names is read as far as it goes; the sender X did not describe keeps its ids.
 */
function readUsers(users: Record<string, unknown>): Record<string, V1User> {
  const out: Record<string, V1User> = {};
  for (const entry of Object.values(users)) {
    const e = entry as { data?: unknown } | null;
    const candidate = typeof e === 'object' && e !== null && 'data' in e ? e.data : e;
    // Names of an unexpected type are dropped, the id kept.
    const user = v2UserSchema.safeParse(candidate);
    const idOnly = user.success ? user : v2UserSchema.pick({ id: true }).safeParse(candidate);
    if (idOnly.success) out[idOnly.data.id] = v1UserFromV2(idOnly.data);
  }
  return out;
}

const chatPayloadSchema = z.object({ sender_id: xUserIdSchema.optional(), id: z.string().max(100).optional() }).passthrough();
const revokePayloadSchema = z.object({ user_id: xUserIdSchema, app_id: z.string().max(64).optional() }).passthrough();

/**
 * The end of a replay job, which X posts to the webhook itself (`replay_job_status`, documented for
 * Account Activity replays): acknowledged and logged, never a 400 (X would keep re-posting it).
 */
const replayJobStatusSchema = z
  .object({
    replay_job_status: z
      .object({ webhook_id: z.string().max(64).optional(), job_id: z.string().max(64), job_state: z.string().max(64), job_state_description: z.string().max(500).optional() })
      .passthrough(),
  })
  .passthrough();

/** What the webhook reports about a delivery that carries no message to forward. */
export type DeliveryNotice =
  | { kind: 'foreign-account'; eventType: string; userId?: string }
  | { kind: 'encrypted-dm'; eventType: string; senderId?: string; eventUuid?: string }
  /** XChat is on, but X's chat.received cannot be read (payload fields missing): nothing to decrypt. */
  | { kind: 'xchat-invalid'; reason: string; eventUuid?: string }
  | { kind: 'access-revoked'; userId: string }
  | { kind: 'ignored'; eventType: string }
  | { kind: 'replay-job'; jobId: string; state: string; description?: string };

/**
 * A valid XAA body: either the Account Activity body a `dm.*` event stands for (the webhook reads it
 * exactly as an AAA delivery), or a notice for an event that carries nothing to forward.
 */
export type XaaVerdict =
  | { ok: true; accountActivity: unknown }
  /** A chat.received the tenant reads (`x.xchat`): queued encrypted, opened by the dispatcher. */
  | { ok: true; chat: EncryptedChatMessage }
  | { ok: true; notice: DeliveryNotice }
  | { ok: false; reason: string };

/** True for a body that is an XAA envelope or a replay-job status, rather than an AAA delivery. */
export function isXaaBody(json: unknown): boolean {
  if (typeof json !== 'object' || json === null || 'for_user_id' in json) return false;
  const data = (json as { data?: unknown }).data;
  return (typeof data === 'object' && data !== null && 'event_type' in data) || 'replay_job_status' in json;
}

const issues = (err: z.ZodError) => formatZodIssues(err, { limit: 3, pathsOnly: true });

/** Validates an XAA body and turns it into the AAA body it stands for (dm.*) or a notice. */
export function readXaaBody(json: unknown, accountId: string, options: { xchat?: boolean; receivedAtMs?: number } = {}): XaaVerdict {
  const replay = replayJobStatusSchema.safeParse(json);
  if (replay.success) {
    const s = replay.data.replay_job_status;
    return { ok: true, notice: { kind: 'replay-job', jobId: s.job_id, state: s.job_state, description: s.job_state_description } };
  }
  const envelope = xaaEnvelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, reason: `not an X Activity API delivery (${issues(envelope.error)})` };
  const { event_type: eventType, filter, payload, event_uuid: eventUuid } = envelope.data.data;

  if (eventType === 'oauth.revoke') {
    const revoke = revokePayloadSchema.safeParse(payload);
    if (!revoke.success) return { ok: false, reason: `oauth.revoke without a valid payload (${issues(revoke.error)})` };
    const userId = revoke.data.user_id;
    return { ok: true, notice: userId === accountId ? { kind: 'access-revoked', userId } : { kind: 'foreign-account', eventType, userId } };
  }

  if (!filter.user_id) return { ok: false, reason: `${eventType} without filter.user_id` };
  if (filter.user_id !== accountId) return { ok: true, notice: { kind: 'foreign-account', eventType, userId: filter.user_id } };

  if (eventType === 'dm.received' || eventType === 'dm.sent') {
    const dm = dmPayloadSchema.safeParse(payload);
    if (!dm.success) return { ok: false, reason: `${eventType} payload invalid (${issues(dm.error)})` };
    const users = readUsers(dm.data.users);
    // dm.sent is the account's own DM: the AAA reading skips it as an echo (sender = for_user_id).
    return { ok: true, accountActivity: { for_user_id: filter.user_id, direct_message_events: dm.data.direct_message_events, users } };
  }

  if (eventType === 'chat.received' && options.xchat) {
    const chat = chatReceivedPayloadSchema.safeParse(payload);
    if (!chat.success || !eventUuid) return { ok: true, notice: { kind: 'xchat-invalid', eventUuid, reason: chat.success ? 'no event_uuid' : issues(chat.error) } };
    return { ok: true, chat: encryptedChatMessage(chat.data, { eventUuid, accountId, receivedAtMs: options.receivedAtMs ?? Date.now() }) };
  }

  if (eventType === 'chat.received' || eventType === 'chat.sent') {
    const chat = chatPayloadSchema.safeParse(payload);
    const senderId = chat.success ? chat.data.sender_id : undefined;
    return { ok: true, notice: eventType === 'chat.received' ? { kind: 'encrypted-dm', eventType, senderId, eventUuid } : { kind: 'ignored', eventType } };
  }

  // dm.read, dm.indicate_typing and any event type the tenant subscribed to by mistake.
  return { ok: true, notice: { kind: 'ignored', eventType } };
}
