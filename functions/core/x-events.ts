import { z } from 'zod';
import { minimalV1User, xUserIdSchema } from './x-users';

/**
 * X's Account Activity delivery (same shape for v1.1 and v2 deliveries) and its normalisation into
 * inbound messages. Only the fields we use are required; everything else passes through untouched
 * so that the relay mode can forward the event unchanged in shape.
 */
const urlEntitySchema = z
  .object({ url: z.string(), expanded_url: z.string().optional(), display_url: z.string().optional() })
  .passthrough();

const mediaSchema = z
  .object({
    id_str: z.string().optional(),
    id: z.union([z.number(), z.string()]).optional(),
    media_url_https: z.string().optional(),
    url: z.string().optional(),
    type: z.string().optional(),
    // A video or GIF: media_url_https is its preview image, the playable files are the variants.
    video_info: z.object({ variants: z.array(z.unknown()).max(50).default([]) }).passthrough().optional(),
  })
  .passthrough();

const videoVariantSchema = z.object({ url: z.string().min(1), content_type: z.string().optional(), bitrate: z.number().optional() }).passthrough();

/** The URL of a DM's media: a video's or GIF's best MP4 variant, else the image (a video's preview). */
function mediaUrl(media: z.infer<typeof mediaSchema> | undefined): string | undefined {
  const mp4 = (media?.video_info?.variants ?? [])
    .flatMap((v) => {
      const parsed = videoVariantSchema.safeParse(v);
      return parsed.success && parsed.data.content_type === 'video/mp4' ? [parsed.data] : [];
    })
    .sort((a, b) => (b.bitrate ?? 0) - (a.bitrate ?? 0));
  return mp4[0]?.url ?? media?.media_url_https;
}

/** DM event ids are decimal digits: they become SQS de-duplication ids and table keys. */
export const dmEventIdSchema = z.string().regex(/^\d{1,32}$/, 'a DM event id is decimal digits');

const directMessageEventSchema = z
  .object({
    type: z.string(),
    id: dmEventIdSchema,
    // A string of ms in X's examples; a number is read the same.
    created_timestamp: z.union([z.string(), z.number().int().nonnegative()]).pipe(z.coerce.string().regex(/^\d{1,15}$/)),
    message_create: z
      .object({
        sender_id: xUserIdSchema,
        target: z.object({ recipient_id: xUserIdSchema }).passthrough(),
        source_app_id: z.string().optional(),
        message_data: z
          .object({
            text: z.string().default(''),
            entities: z.object({ urls: z.array(urlEntitySchema).default([]) }).passthrough().optional(),
            attachment: z.object({ type: z.string(), media: mediaSchema.optional() }).passthrough().optional(),
            quick_reply_response: z.object({ type: z.string(), metadata: z.string().optional() }).passthrough().optional(),
          })
          .passthrough(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

const xUserSchema = z
  .object({ id: xUserIdSchema, name: z.string().optional(), screen_name: z.string().optional() })
  .passthrough();

/**
 * X's `users` map: keyed by user id, each entry describing that very user. X's docs say field
 * availability varies, so an entry that cannot be read (no object, no id, names of the wrong type,
 * an id other than its key, `__proto__`) is left out, never a reason to refuse the delivery: the
 * sender then keeps its ids only. Read on the raw object (own keys only), so no entry can lend a
 * sender another user's name.
 */
const usersSchema = z
  .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'users must be an object')
  // A map without a prototype: no key can reach Object.prototype.
  .transform((raw) => {
    const users = Object.create(null) as Record<string, XUser>;
    for (const [key, entry] of Object.entries(raw)) {
      const e = entry as { id?: unknown; id_str?: unknown } | null;
      // v1.1 users carry id as a JSON number (imprecise past 2^53) and id_str as the exact string.
      const id = typeof e?.id_str === 'string' ? e.id_str : e?.id;
      const user = xUserIdSchema.safeParse(key).success && id === key ? xUserSchema.safeParse({ ...e, id }) : undefined;
      if (user?.success) users[key] = user.data;
    }
    return users;
  });

export const accountActivitySchema = z
  .object({
    for_user_id: xUserIdSchema,
    direct_message_events: z.array(directMessageEventSchema).max(1000).optional(),
    users: usersSchema.optional(),
    apps: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

type XUser = z.infer<typeof xUserSchema>;
export type AccountActivity = z.infer<typeof accountActivitySchema>;

const queuedInboundMessageSchema = z.object({
  eventId: dmEventIdSchema,
  /** ms since epoch as X sends it, and the same instant in ISO form. */
  createdTimestamp: z.string(),
  createdAt: z.string(),
  /** When the bridge received it (ISO); absent on messages queued by older versions. */
  receivedAt: z.string().optional(),
  forUserId: xUserIdSchema,
  sender: z.object({ id: xUserIdSchema, handle: z.string().optional(), name: z.string().optional() }),
  recipientId: xUserIdSchema,
  /**
   * Text with t.co links replaced by their expanded URLs. Not in the queue body (see
   * inboundQueueBody): it is derived again from the original event, so the text is stored once.
   */
  text: z.string().optional(),
  attachments: z.array(
    z.object({ type: z.string(), mediaId: z.string().optional(), mediaType: z.string().optional(), url: z.string().optional() }),
  ),
  quickReply: z.object({ type: z.string(), metadata: z.string().optional() }).optional(),
  /** The original event and the `users` entries it references: what relay mode forwards to 4biz. */
  raw: z.object({ event: directMessageEventSchema, users: z.record(xUserIdSchema, xUserSchema) }),
  /**
   * Set when the message came from XChat (decrypted and verified, core/xchat.ts): its conversation
   * there, and the signed message id that de-duplicates it. Answers go back encrypted.
   */
  xchat: z.object({ conversationId: z.string().min(1).max(100), messageId: z.string().min(1).max(100), conversationToken: z.string().optional() }).optional(),
});

/** The inbound message as queued; `text` is derived from `raw` when the body leaves it out. */
export const inboundMessageSchema = queuedInboundMessageSchema.transform((m) => ({ ...m, text: m.text ?? textOf(m.raw.event) }));

export type InboundMessage = z.output<typeof inboundMessageSchema>;

/** What the inbound queue carries: the message without `text`, which `raw` already holds (a long DM stored once). */
export function inboundQueueBody(message: InboundMessage): Omit<InboundMessage, 'text'> {
  const { text: _derived, ...body } = message;
  return body;
}

/** `too-old`: created longer ago than processed records live (core/webhook-delivery.ts). */
type SkipReason = 'echo' | 'not-message-create' | 'too-old';

export interface NormalisedDelivery {
  messages: InboundMessage[];
  skipped: { eventId?: string; reason: SkipReason }[];
  /** Other event kinds in the delivery (typing, read, tweets, follows…): acknowledged, ignored. */
  ignoredKinds: string[];
}

/** A t.co link as X writes it into DM text. */
const T_CO_LINK = /https:\/\/t\.co\/[A-Za-z0-9]+/g;
const T_CO_URL = /^https:\/\/t\.co\/[A-Za-z0-9]+$/;

/** Expanding links never makes a text longer than this (X's DM limit is 10,000 characters). */
export const MAX_EXPANDED_TEXT_CHARS = 20_000;

/**
 * Replaces each t.co link in the text by its expanded URL (the media link stays, as a link). Only
 * entries whose `url` is a non-empty https://t.co/… link count; once the text would outgrow
 * MAX_EXPANDED_TEXT_CHARS the remaining links stay t.co links (they still work).
 */
export function expandUrls(text: string, urls: { url: string; expanded_url?: string }[]): string {
  const expansions = new Map<string, string>();
  for (const u of urls) if (T_CO_URL.test(u.url) && typeof u.expanded_url === 'string' && u.expanded_url) expansions.set(u.url, u.expanded_url);
  if (expansions.size === 0) return text;
  let budget = MAX_EXPANDED_TEXT_CHARS - text.length;
  return text.replace(T_CO_LINK, (link) => {
    const to = expansions.get(link);
    if (to === undefined || to.length - link.length > budget) return link;
    budget -= to.length - link.length;
    return to;
  });
}

/** A created_timestamp further ahead than this is not believed for the conversation's bookkeeping. */
const MAX_CLOCK_SKEW_MS = 10 * 60_000;

/**
 * The instant a DM counts at for its conversation (idle timeout, last activity): its own
 * timestamp, unless that lies more than MAX_CLOCK_SKEW_MS after it was received; then the time it
 * was received (else a forged future timestamp would keep a conversation open for ever).
 */
export function bookkeepingTime(message: Pick<InboundMessage, 'createdTimestamp' | 'receivedAt'>, nowMs: number): Date {
  const created = Number(message.createdTimestamp);
  const received = message.receivedAt ? Date.parse(message.receivedAt) : nowMs;
  return new Date(created > received + MAX_CLOCK_SKEW_MS ? received : created);
}

/** A DM event's text as the bridge forwards it: t.co links expanded. */
function textOf(event: z.infer<typeof directMessageEventSchema>): string {
  const data = event.message_create?.message_data;
  return data ? expandUrls(data.text, data.entities?.urls ?? []) : '';
}

export function normaliseDelivery(body: AccountActivity, receivedAtMs: number = Date.now()): NormalisedDelivery {
  const users: Record<string, XUser> = body.users ?? Object.create(null);
  const messages: InboundMessage[] = [];
  const skipped: NormalisedDelivery['skipped'] = [];
  for (const event of body.direct_message_events ?? []) {
    const mc = event.message_create;
    if (event.type !== 'message_create' || !mc) {
      skipped.push({ eventId: event.id, reason: 'not-message-create' });
      continue;
    }
    if (mc.sender_id === body.for_user_id) {
      skipped.push({ eventId: event.id, reason: 'echo' });
      continue;
    }
    const sender = users[mc.sender_id];
    const data = mc.message_data;
    const media = data.attachment?.media;
    const referenced = [mc.sender_id, mc.target.recipient_id].filter((id) => users[id]);
    // 4biz reads the sender from `users`: one X did not describe still gets its ids.
    const rawUsers: Record<string, XUser> = Object.fromEntries(referenced.map((id) => [id, users[id]]));
    rawUsers[mc.sender_id] ??= xUserSchema.parse(minimalV1User(mc.sender_id));
    messages.push({
      eventId: event.id,
      createdTimestamp: event.created_timestamp,
      createdAt: new Date(Number(event.created_timestamp)).toISOString(),
      receivedAt: new Date(receivedAtMs).toISOString(),
      forUserId: body.for_user_id,
      sender: { id: mc.sender_id, handle: sender?.screen_name, name: sender?.name },
      recipientId: mc.target.recipient_id,
      text: textOf(event),
      attachments: data.attachment
        ? [
            {
              type: data.attachment.type,
              mediaId: media?.id_str ?? (media?.id !== undefined ? String(media.id) : undefined),
              mediaType: media?.type,
              url: mediaUrl(media),
            },
          ]
        : [],
      quickReply: data.quick_reply_response
        ? { type: data.quick_reply_response.type, metadata: data.quick_reply_response.metadata }
        : undefined,
      raw: { event, users: rawUsers },
    });
  }
  const ignoredKinds = Object.keys(body).filter(
    (k) => k.endsWith('_events') && k !== 'direct_message_events',
  );
  return { messages, skipped, ignoredKinds };
}

/** The Account Activity payload carrying exactly one DM event: what relay mode POSTs to 4biz. */
export function singleEventPayload(message: InboundMessage): AccountActivity {
  return { for_user_id: message.forUserId, direct_message_events: [message.raw.event], users: message.raw.users };
}
