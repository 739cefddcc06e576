import type { Conversation } from './conversation';
import { solutionSourceId, type OutboundMessage } from './outbound-message';
import type { FourbizOccurrence, FourbizRequest } from './ports';
import { answerParts, formatOccurrence, formatSolution } from './reply-format';
import { compareDecimalIds } from './decimal-ids';

/**
 * What one poll of a 4biz request means for its conversation (tickets mode): which replies go out
 * to the person, which occurrences are now handled, and whether the conversation ends.
 */

/**
 * Handled occurrences: all up to `upTo`, plus `ids` above it. 4biz numbers occurrences in the
 * order it allocates them, not the order they become visible, so an agent's occurrence can show
 * up after higher-numbered ones were synced: a single "highest seen" would skip it for good.
 */
export interface SyncedOccurrences {
  upTo?: string;
  ids: string[];
}

/** How many handled numbers above the low-water mark a conversation keeps (bounds the item's size). */
const MAX_SYNCED_IDS = 200;

/**
 * 4biz's occurrence categories meant for the requester (docs/tickets-mode.md says why): the
 * default of the tenant's `fourbiz.customerVisibleCategories`.
 */
export const DEFAULT_CUSTOMER_VISIBLE_CATEGORIES = ['Acompanhamento', 'Retorno'];

/** Categories compare without case or accents: 4biz writes both "Investigação" and "Investigacao". */
const categoryKey = (c: string) => c.normalize('NFD').replace(/\p{M}/gu, '').trim().toLowerCase();

/** An agent's occurrence that stays in 4biz: its category is not one the tenant shows the person. */
export interface KeptBackOccurrence {
  id: string;
  category?: string;
}

export interface ReplySyncPlan {
  /** In the order the person should read them; the solution (or closing message) last. */
  outbound: OutboundMessage[];
  /** Agents' occurrences not sent (internal categories, or none): logged and counted, never their text. */
  keptBack: KeptBackOccurrence[];
  /** What is handled once these replies are queued. */
  synced: SyncedOccurrences;
  /** True when `synced` differs from what the conversation has stored. */
  syncedChanged: boolean;
  /** The request is finished: the conversation closes once the replies are queued. */
  close: boolean;
}

export interface ReplySyncOptions {
  /** The tenant's `fourbiz.closingMessage`. */
  closingMessage?: string;
  /** The tenant's `fourbiz.customerVisibleCategories` (default DEFAULT_CUSTOMER_VISIBLE_CATEGORIES). */
  customerVisibleCategories?: readonly string[];
  /** The tenant's `fourbiz.answerMaxParts`: most DMs one answer becomes (default DEFAULT_ANSWER_MAX_PARTS). */
  answerMaxParts?: number;
  maxSyncedIds?: number;
}

export function syncedOccurrencesOf(conversation: Conversation): SyncedOccurrences {
  return { upTo: conversation.lastSyncedOccurrenceId, ids: conversation.syncedOccurrenceIds ?? [] };
}

function isSynced(synced: SyncedOccurrences, id: string): boolean {
  return (synced.upTo !== undefined && compareDecimalIds(id, synced.upTo) <= 0) || synced.ids.includes(id);
}

/**
 * Both records' handled occurrences together (a concurrent writer may have added some), trimmed to
 * `max` ids: the lowest ones fold into the low-water mark.
 */
export function mergeSynced(a: SyncedOccurrences, b: SyncedOccurrences, max = MAX_SYNCED_IDS): SyncedOccurrences {
  let upTo = [a.upTo, b.upTo].filter((x): x is string => x !== undefined).sort(compareDecimalIds).at(-1);
  const ids = [...new Set([...a.ids, ...b.ids])].filter((id) => upTo === undefined || compareDecimalIds(id, upTo) > 0).sort(compareDecimalIds);
  const dropped = ids.splice(0, Math.max(0, ids.length - max));
  if (dropped.length > 0) upTo = dropped.at(-1);
  return { upTo, ids };
}

export function planReplySync(conversation: Conversation, request: FourbizRequest, occurrences: FourbizOccurrence[], options: ReplySyncOptions = {}): ReplySyncPlan {
  const base = {
    xUserId: conversation.xUserId,
    recipientId: conversation.xUserId,
    requestNumber: request.number,
    conversationId: conversation.conversationId,
  };
  const before = syncedOccurrencesOf(conversation);
  const fresh = occurrences.filter((o) => !isSynced(before, o.id)).sort((a, b) => compareDecimalIds(a.id, b.id));
  const visible = new Set((options.customerVisibleCategories ?? DEFAULT_CUSTOMER_VISIBLE_CATEGORIES).map(categoryKey));
  const outbound: OutboundMessage[] = [];
  const keptBack: KeptBackOccurrence[] = [];
  for (const o of fresh) {
    if (o.byIntegrationUser) continue;
    // Internal notes (Diagnostico, Memorando, …) and occurrences without a category stay in 4biz.
    if (o.category === undefined || !visible.has(categoryKey(o.category))) {
      keptBack.push({ id: o.id, ...(o.category !== undefined ? { category: o.category } : {}) });
      continue;
    }
    const text = formatOccurrence(o.description);
    // An occurrence with no words (an empty note, only markup) has nothing to tell the person.
    if (!text) continue;
    // One queue message per DM: none outgrows SQS, and a long answer is bounded (answerParts).
    const parts = answerParts(text, request.number, options.answerMaxParts);
    parts.forEach((part, i) => outbound.push({ ...base, text: part, sourceId: parts.length === 1 ? o.id : `${o.id}:part${i + 1}`, kind: 'occurrence' }));
  }
  if (request.finished) {
    const text = formatSolution({ requestNumber: request.number, status: request.status, solution: request.solution, closingMessage: options.closingMessage });
    const parts = answerParts(text, request.number, options.answerMaxParts);
    const id = solutionSourceId(request.number);
    parts.forEach((part, i) => outbound.push({ ...base, text: part, sourceId: parts.length === 1 ? id : `${id}:part${i + 1}`, kind: 'solution' }));
  }
  const synced = mergeSynced(before, { ids: fresh.map((o) => o.id) }, options.maxSyncedIds);
  const syncedChanged = synced.upTo !== before.upTo || synced.ids.join(',') !== before.ids.join(',');
  return { outbound, keptBack, synced, syncedChanged, close: request.finished };
}
