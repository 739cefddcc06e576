import { z } from 'zod';
import { v1UserFromV2, minimalV1User, v2UserSchema, xUserIdSchema, type V1User } from './x-users';
import { accountActivitySchema, dmEventIdSchema, normaliseDelivery, type InboundMessage } from './x-events';
import { formatZodIssues } from './zod-issues';

/**
 * X's DM lookup (`GET /2/dm_events`, DESIGN §2) read into the bridge's inbound messages. A page is
 * validated event by event: one malformed event is reported and the rest of the page still counts.
 * Each `MessageCreate` of a one-to-one conversation becomes the Account Activity (v1.1) event a
 * webhook would have delivered, so the queue, dispatcher, relay (`singleEventPayload`) and tickets
 * modes see exactly what they see from a webhook.
 */

/**
 * The query the poller sends (with `max_results`, see core/dm-poll.ts): DESIGN §2's fields and
 * expansions; X answers newest first. Joins and leaves are not asked for; should X send them
 * anyway they are skipped, counted.
 */
export const DM_EVENTS_QUERY = {
  event_types: 'MessageCreate',
  'dm_event.fields': 'id,text,event_type,created_at,sender_id,dm_conversation_id,attachments,entities',
  expansions: 'sender_id,attachments.media_keys',
  'user.fields': 'username,name',
  // A photo has `url`; a video or GIF has `preview_image_url` and `variants` instead.
  'media.fields': 'url,type,preview_image_url,variants',
} as const;

/** What every event carries: enough to move the cursor past it. */
const eventHeadSchema = z.object({ id: dmEventIdSchema, event_type: z.string().min(1).max(64) }).passthrough();

const v2UrlSchema = z
  .object({
    start: z.number().int().nonnegative().optional(),
    end: z.number().int().nonnegative().optional(),
    url: z.string().min(1).max(2000),
    expanded_url: z.string().max(4000).optional(),
    display_url: z.string().max(4000).optional(),
  })
  .passthrough();

const messageCreateSchema = eventHeadSchema.extend({
  event_type: z.literal('MessageCreate'),
  text: z.string().max(20_000).default(''),
  sender_id: xUserIdSchema,
  /** One-to-one: "<smaller id>-<larger id>"; a group conversation has an id of its own. */
  dm_conversation_id: z.string().min(1).max(100),
  created_at: z.string().datetime({ offset: true }),
  attachments: z.object({ media_keys: z.array(z.string().min(1).max(100)).max(10).default([]) }).passthrough().optional(),
  entities: z.object({ urls: z.array(v2UrlSchema).max(100).default([]) }).passthrough().optional(),
  /** X's DM lookup also puts the links at the top level of the event. */
  urls: z.array(v2UrlSchema).max(100).optional(),
});

type DmMessageCreate = z.infer<typeof messageCreateSchema>;

const variantSchema = z.object({ url: z.string().min(1).max(4000), content_type: z.string().max(100).optional(), bit_rate: z.number().optional() }).passthrough();

const v2MediaSchema = z
  .object({
    media_key: z.string().min(1).max(100),
    type: z.string().max(50).optional(),
    url: z.string().max(4000).optional(),
    preview_image_url: z.string().max(4000).optional(),
    // One bad variant must not lose the media: unreadable ones are dropped.
    variants: z
      .array(z.unknown())
      .max(50)
      .transform((vs) => vs.flatMap((v) => (variantSchema.safeParse(v).success ? [variantSchema.parse(v)] : [])))
      .optional(),
  })
  .passthrough();
type V2Media = z.infer<typeof v2MediaSchema>;

const pageSchema = z
  .object({
    data: z.array(z.unknown()).max(1000).default([]),
    includes: z
      .object({ users: z.array(z.unknown()).max(1000).default([]), media: z.array(z.unknown()).max(1000).default([]) })
      .passthrough()
      .default({}),
    meta: z.object({ result_count: z.number().optional(), next_token: z.string().min(1).max(500).optional() }).passthrough().default({}),
  })
  .passthrough();

/** An event of the page, in the page's order (newest first). */
export type PageEvent =
  | { kind: 'message'; id: string; createdAtMs: number; message: InboundMessage }
  | { kind: 'skipped'; id: string; createdAtMs?: number; reason: DmSkipReason }
  | { kind: 'malformed'; id?: string; createdAtMs?: number; reason: string };

/**
 * `own`: the company's own DM (as the webhook's echo); `not-message-create`: joins, leaves and
 * other event types; `group`: a message of a group conversation, which 4biz's channel cannot answer.
 */
export type DmSkipReason = 'own' | 'not-message-create' | 'group';

export interface DmEventsPage {
  events: PageEvent[];
  nextToken?: string;
  /** Set when the answer is not a DM events page at all: the walk must stop, not take it as the end. */
  invalid?: string;
}

const issuesOf = (error: z.ZodError) => formatZodIssues(error, { root: '(event)', limit: 3 });

/** "<a>-<b>" with the company as one of the two: a one-to-one conversation of the company. */
function isOneToOne(conversationId: string, companyId: string): boolean {
  const ids = /^(\d{1,32})-(\d{1,32})$/.exec(conversationId);
  return ids !== null && (ids[1] === companyId || ids[2] === companyId);
}

/**
 * The v1.1 attachment of an Account Activity DM: its media id is the part of the v2 key after "_";
 * a video or GIF has its preview as `media_url_https` and its variants as `video_info`, as v1.1 has.
 */
function v1Attachment(mediaKey: string, media: V2Media | undefined) {
  const id = mediaKey.includes('_') ? mediaKey.slice(mediaKey.indexOf('_') + 1) : mediaKey;
  const image = media?.url ?? media?.preview_image_url;
  const variants = media?.variants?.map((v) => ({ url: v.url, content_type: v.content_type, bitrate: v.bit_rate }));
  return {
    type: 'media',
    media: {
      id_str: id,
      type: media?.type,
      ...(image ? { media_url_https: image, media_url: image } : {}),
      ...(variants?.length ? { video_info: { variants } } : {}),
    },
  };
}

/** The event's links: under `entities`, and those X put at the top level (each link once). */
function linksOf(event: DmMessageCreate) {
  const links = [...(event.entities?.urls ?? [])];
  for (const u of event.urls ?? []) if (!links.some((l) => l.url === u.url)) links.push(u);
  return links;
}

/** The Account Activity `message_create` event X's webhook would carry for this DM (validated by the caller). */
function accountActivityEvent(event: DmMessageCreate, companyId: string, media: Map<string, V2Media>) {
  const mediaKey = event.attachments?.media_keys[0];
  return {
    type: 'message_create',
    id: event.id,
    created_timestamp: String(Date.parse(event.created_at)),
    message_create: {
      target: { recipient_id: companyId },
      sender_id: event.sender_id,
      message_data: {
        text: event.text,
        entities: {
          hashtags: [],
          symbols: [],
          user_mentions: [],
          urls: linksOf(event).map((u) => ({
            url: u.url,
            expanded_url: u.expanded_url,
            display_url: u.display_url,
            ...(u.start !== undefined && u.end !== undefined ? { indices: [u.start, u.end] } : {}),
          })),
        },
        ...(mediaKey ? { attachment: v1Attachment(mediaKey, media.get(mediaKey)) } : {}),
      },
    },
  };
}

/**
 * Reads one page of `GET /2/dm_events` for the company account `companyId`, read at
 * `receivedAtMs`. Never throws on X's content: a bad event is one malformed entry, an answer that
 * is no page at all sets `invalid`.
 */
export function readDmEventsPage(json: unknown, companyId: string, receivedAtMs: number = Date.now()): DmEventsPage {
  const page = pageSchema.safeParse(json);
  if (!page.success) return { events: [], invalid: `not a DM events page: ${issuesOf(page.error)}` };
  const { data, includes, meta } = page.data;

  const users = new Map<string, V1User>();
  for (const u of includes.users) {
    const parsed = v2UserSchema.safeParse(u);
    if (parsed.success) users.set(parsed.data.id, v1UserFromV2(parsed.data));
  }
  const media = new Map<string, V2Media>();
  for (const m of includes.media) {
    const parsed = v2MediaSchema.safeParse(m);
    if (parsed.success) media.set(parsed.data.media_key, parsed.data);
  }

  const events = data.map((raw): PageEvent => {
    const head = eventHeadSchema.safeParse(raw);
    if (!head.success) return { kind: 'malformed', reason: issuesOf(head.error) };
    const { id, event_type } = head.data;
    const createdAt = Date.parse(String((raw as { created_at?: unknown }).created_at));
    const createdAtMs = Number.isFinite(createdAt) ? createdAt : undefined;
    if (event_type !== 'MessageCreate') return { kind: 'skipped', id, createdAtMs, reason: 'not-message-create' };
    const parsed = messageCreateSchema.safeParse(raw);
    if (!parsed.success) return { kind: 'malformed', id, createdAtMs, reason: issuesOf(parsed.error) };
    const event = parsed.data;
    if (event.sender_id === companyId) return { kind: 'skipped', id, createdAtMs, reason: 'own' };
    if (!isOneToOne(event.dm_conversation_id, companyId)) return { kind: 'skipped', id, createdAtMs, reason: 'group' };

    // Through the webhook's own normalisation: the same inbound message, the same relay payload.
    const activity = accountActivitySchema.safeParse({
      for_user_id: companyId,
      direct_message_events: [accountActivityEvent(event, companyId, media)],
      users: {
        [event.sender_id]: users.get(event.sender_id) ?? minimalV1User(event.sender_id),
        [companyId]: users.get(companyId) ?? minimalV1User(companyId),
      },
    });
    const message = activity.success ? normaliseDelivery(activity.data, receivedAtMs).messages[0] : undefined;
    return message
      ? { kind: 'message', id, createdAtMs: Date.parse(event.created_at), message }
      : { kind: 'malformed', id, createdAtMs, reason: activity.success ? 'not convertible to an inbound message' : issuesOf(activity.error) };
  });
  return { events, nextToken: meta.next_token };
}
