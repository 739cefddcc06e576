import { z } from 'zod';

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
  })
  .passthrough();

export const directMessageEventSchema = z
  .object({
    type: z.string(),
    id: z.string().min(1).max(64),
    created_timestamp: z.string().regex(/^\d{1,15}$/),
    message_create: z
      .object({
        sender_id: z.string().regex(/^\d{1,32}$/),
        target: z.object({ recipient_id: z.string().regex(/^\d{1,32}$/) }).passthrough(),
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

export const xUserSchema = z
  .object({ id: z.string(), name: z.string().optional(), screen_name: z.string().optional() })
  .passthrough();

export const accountActivitySchema = z
  .object({
    for_user_id: z.string().regex(/^\d{1,32}$/),
    direct_message_events: z.array(directMessageEventSchema).max(1000).optional(),
    users: z.record(z.string(), xUserSchema).optional(),
    apps: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export type DirectMessageEvent = z.infer<typeof directMessageEventSchema>;
export type XUser = z.infer<typeof xUserSchema>;
export type AccountActivity = z.infer<typeof accountActivitySchema>;

export const inboundMessageSchema = z.object({
  eventId: z.string().min(1),
  /** ms since epoch as X sends it, and the same instant in ISO form. */
  createdTimestamp: z.string(),
  createdAt: z.string(),
  forUserId: z.string(),
  sender: z.object({ id: z.string(), handle: z.string().optional(), name: z.string().optional() }),
  recipientId: z.string(),
  /** Text with t.co links replaced by their expanded URLs. */
  text: z.string(),
  attachments: z.array(
    z.object({ type: z.string(), mediaId: z.string().optional(), mediaType: z.string().optional(), url: z.string().optional() }),
  ),
  quickReply: z.object({ type: z.string(), metadata: z.string().optional() }).optional(),
  /** The original event and the `users` entries it references: what relay mode forwards to 4biz. */
  raw: z.object({ event: directMessageEventSchema, users: z.record(z.string(), xUserSchema) }),
});

export type InboundMessage = z.infer<typeof inboundMessageSchema>;

export type SkipReason = 'echo' | 'not-message-create';

export interface NormalisedDelivery {
  messages: InboundMessage[];
  skipped: { eventId?: string; reason: SkipReason }[];
  /** Other event kinds in the delivery (typing, read, tweets, follows…): acknowledged, ignored. */
  ignoredKinds: string[];
}

/** Replaces each t.co URL in the text by its expanded URL (the media link stays, as a link). */
export function expandUrls(text: string, urls: { url: string; expanded_url?: string }[]): string {
  return urls.reduce((acc, u) => (u.expanded_url ? acc.split(u.url).join(u.expanded_url) : acc), text);
}

export function normaliseDelivery(body: AccountActivity): NormalisedDelivery {
  const users = body.users ?? {};
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
    messages.push({
      eventId: event.id,
      createdTimestamp: event.created_timestamp,
      createdAt: new Date(Number(event.created_timestamp)).toISOString(),
      forUserId: body.for_user_id,
      sender: { id: mc.sender_id, handle: sender?.screen_name, name: sender?.name },
      recipientId: mc.target.recipient_id,
      text: expandUrls(data.text, data.entities?.urls ?? []),
      attachments: data.attachment
        ? [
            {
              type: data.attachment.type,
              mediaId: media?.id_str ?? (media?.id !== undefined ? String(media.id) : undefined),
              mediaType: media?.type,
              url: media?.media_url_https,
            },
          ]
        : [],
      quickReply: data.quick_reply_response
        ? { type: data.quick_reply_response.type, metadata: data.quick_reply_response.metadata }
        : undefined,
      raw: { event, users: Object.fromEntries(referenced.map((id) => [id, users[id]])) },
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
