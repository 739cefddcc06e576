import { invalidRequest } from './problems';
import type { Route } from './route';
import type { SentDm } from './dms';

/**
 * DM lookup: `GET /2/dm_events` (polling mode), and one conversation's events
 * (`GET /2/dm_conversations/with/:participant_id/dm_events`: the sender's look before repeating a
 * send whose answer was lost). X's documented behaviour: user context (OAuth 1.0a
 * accepted), newest first, 30 days back, `max_results` 1-100 (default 100), `pagination_token` from
 * `meta.next_token`, `event_types` filter, `dm_event.fields` (default id, event_type, text),
 * `expansions=sender_id,attachments.media_keys` → `includes.users` / `includes.media` with
 * `user.fields` / `media.fields`. The token format is X's own (opaque); this one is inferred.
 */

export interface SimulatedDmEvent {
  id: string;
  event_type: 'MessageCreate' | 'ParticipantsJoin' | 'ParticipantsLeave';
  text?: string;
  sender_id: string;
  dm_conversation_id: string;
  created_at: string;
  participant_ids?: string[];
  attachments?: { media_keys: string[] };
  entities?: { urls: DmUrl[] };
  /** X also gives the links at the top level of the event. */
  urls?: DmUrl[];
}

interface DmUrl {
  start: number;
  end: number;
  url: string;
  expanded_url: string;
  display_url: string;
}

/** A media object as `includes.media` gives it: a photo has `url`, a video or GIF `preview_image_url` and `variants`. */
interface SimulatedMedia {
  media_key: string;
  type: string;
  url?: string;
  preview_image_url?: string;
  variants?: Array<{ url: string; content_type: string; bit_rate?: number }>;
}

export interface NewDmEvent {
  senderId: string;
  text?: string;
  /** The sender as includes.users describes it. */
  username?: string;
  name?: string;
  /** t.co links in the text and where they lead. */
  urls?: Array<{ url: string; expandedUrl: string }>;
  /** A photo: its ton.twitter.com URL. */
  mediaUrl?: string;
  /** A video or GIF instead (no `url`, as X describes them). */
  video?: Pick<SimulatedMedia, 'preview_image_url' | 'variants'> & { type: 'video' | 'animated_gif' };
  /** Where X puts the links: under `entities` (default), at the top level, or both. */
  urlsAt?: 'entities' | 'top' | 'both';
  eventType?: SimulatedDmEvent['event_type'];
  /** Default: the one-to-one conversation of the sender and the account. */
  conversationId?: string;
  createdAt?: Date;
  /**
   * X's lookup shows this DM only now, though it was sent at `createdAt`: its id is that instant's
   * (a snowflake holds its time), so it lists below DMs already listed after it.
   */
  late?: boolean;
}

const defaultDmFields = ['id', 'event_type', 'text'];
const listParam = (url: URL, name: string) => url.searchParams.get(name)?.split(',').filter(Boolean);
const pick = <T extends object>(o: T, keep: Set<string>) => Object.fromEntries(Object.entries(o).filter(([k, v]) => keep.has(k) && v !== undefined));

export function dmLookupFamily(accountId: string) {
  const events: SimulatedDmEvent[] = [];
  const users = new Map<string, { id: string; name?: string; username?: string }>([
    [accountId, { id: accountId, name: 'Empresa Suporte', username: 'empresa_suporte' }],
  ]);
  const media = new Map<string, SimulatedMedia>();
  let lastId = 0n;

  /** Snowflake-like and strictly increasing, so "newest first" is well defined. */
  function nextId(): string {
    const candidate = BigInt(Date.now()) * 4_194_304n;
    lastId = candidate > lastId ? candidate : lastId + 1n;
    return lastId.toString();
  }
  const oneToOne = (a: string, b: string) => (BigInt(a) < BigInt(b) ? `${a}-${b}` : `${b}-${a}`);

  /** A snowflake-like id of a past instant, for a DM shown late (never one already used). */
  function idAt(date: Date): string {
    let id = BigInt(date.getTime()) * 4_194_304n;
    while (events.some((e) => e.id === String(id))) id += 1n;
    return String(id);
  }

  function add(dm: NewDmEvent): string {
    const id = dm.late && dm.createdAt ? idAt(dm.createdAt) : nextId();
    if (dm.username || dm.name || !users.has(dm.senderId)) users.set(dm.senderId, { id: dm.senderId, name: dm.name, username: dm.username });
    const text = dm.text ?? '';
    const urls = (dm.urls ?? []).flatMap((u) => {
      const start = text.indexOf(u.url);
      return start === -1 ? [] : [{ start, end: start + u.url.length, url: u.url, expanded_url: u.expandedUrl, display_url: u.expandedUrl.replace(/^https?:\/\//, '') }];
    });
    let attachments: SimulatedDmEvent['attachments'];
    if (dm.mediaUrl || dm.video) {
      const key = `${dm.video ? 7 : 3}_${nextId()}`;
      media.set(key, dm.video ? { media_key: key, ...dm.video } : { media_key: key, type: 'photo', url: dm.mediaUrl });
      attachments = { media_keys: [key] };
    }
    const urlsAt = dm.urlsAt ?? 'entities';
    const eventType = dm.eventType ?? 'MessageCreate';
    events.push({
      id,
      event_type: eventType,
      ...(eventType === 'MessageCreate' ? { text } : { participant_ids: [dm.senderId] }),
      sender_id: dm.senderId,
      dm_conversation_id: dm.conversationId ?? oneToOne(accountId, dm.senderId),
      created_at: (dm.createdAt ?? new Date()).toISOString(),
      ...(attachments ? { attachments } : {}),
      ...(urls.length && urlsAt !== 'top' ? { entities: { urls } } : {}),
      ...(urls.length && urlsAt !== 'entities' ? { urls } : {}),
    });
    return id;
  }

  /** The events of one page, newest first, and whether older ones remain. */
  function page(url: URL, participantId?: string): { page: SimulatedDmEvent[]; more: boolean } {
    const max = Number(url.searchParams.get('max_results') ?? 100);
    if (!Number.isInteger(max) || max < 1 || max > 100) throw invalidRequest(`The \`max_results\` query parameter value [${url.searchParams.get('max_results')}] is not between 1 and 100`, { max_results: [String(max)] });
    const token = url.searchParams.get('pagination_token');
    let before: bigint | undefined;
    if (token) {
      const decoded = /^older-than:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
      if (!decoded) throw invalidRequest(`The \`pagination_token\` query parameter value [${token}] is not valid`, { pagination_token: [token] });
      before = BigInt(decoded[1]!);
    }
    const types = listParam(url, 'event_types');
    const since = Date.now() - 30 * 86_400_000;
    const matching = [...events]
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
      .filter((e) => (!types || types.includes(e.event_type)) && Date.parse(e.created_at) >= since && (before === undefined || BigInt(e.id) < before))
      .filter((e) => participantId === undefined || e.dm_conversation_id.split('-').includes(participantId));
    return { page: matching.slice(0, max), more: matching.length > max };
  }

  /** One page of the account's DM events (of one conversation when `participantId` is given), as X answers it. */
  function lookup(url: URL, participantId?: string) {
    const { page: found, more } = page(url, participantId);
    const fields = new Set([...defaultDmFields, ...(listParam(url, 'dm_event.fields') ?? [])]);
    // Top-level links come with the entities (X's DM lookup examples), not as a field of their own.
    if (fields.has('entities')) fields.add('urls');
    const data = found.map((e) => pick(e, fields));
    const expansions = new Set(listParam(url, 'expansions') ?? []);
    const userFields = new Set(['id', ...(listParam(url, 'user.fields') ?? [])]);
    const mediaFields = new Set(['media_key', ...(listParam(url, 'media.fields') ?? [])]);
    const includes: Record<string, unknown[]> = {};
    if (expansions.has('sender_id')) {
      const ids = [...new Set(found.map((e) => e.sender_id))];
      const people = ids.flatMap((id) => (users.has(id) ? [pick(users.get(id)!, userFields)] : []));
      if (people.length) includes.users = people;
    }
    if (expansions.has('attachments.media_keys')) {
      const items = found.flatMap((e) => e.attachments?.media_keys ?? []).flatMap((k) => (media.has(k) ? [pick(media.get(k)!, mediaFields)] : []));
      if (items.length) includes.media = items;
    }
    const meta = {
      result_count: found.length,
      ...(more ? { next_token: Buffer.from(`older-than:${found.at(-1)!.id}`).toString('base64url') } : {}),
    };
    return { status: 200, body: { ...(data.length ? { data } : {}), ...(Object.keys(includes).length ? { includes } : {}), meta } };
  }

  const route: Route = {
    method: 'GET',
    pattern: /^\/2\/dm_events$/,
    name: 'GET /2/dm_events',
    auth: 'user',
    kind: 'dm-lookup',
    handle: async ({ url }) => lookup(url),
  };
  const conversation: Route = {
    method: 'GET',
    pattern: /^\/2\/dm_conversations\/with\/(\d+)\/dm_events$/,
    name: 'GET /2/dm_conversations/with/:participant_id/dm_events',
    auth: 'user',
    kind: 'dm-lookup',
    handle: async ({ url, params }) => lookup(url, params[0]),
  };

  return {
    events,
    routes: [route, conversation],
    add,
    /** The company's own DMs show up in its DM events too, as X shows them. */
    recordSent(dm: SentDm) {
      if (BigInt(dm.dmEventId) > lastId) lastId = BigInt(dm.dmEventId);
      events.push({ id: dm.dmEventId, event_type: 'MessageCreate', text: dm.text, sender_id: accountId, dm_conversation_id: dm.dmConversationId, created_at: dm.at.toISOString() });
    },
    reset() {
      events.length = 0;
      media.clear();
    },
  };
}
