import type { Conversation } from './conversation';
import { solutionSourceId, type OutboundMessage } from './outbound-message';
import { formatOccurrence, formatSolution } from './reply-format';

/**
 * What one poll of a 4biz request means for its conversation (tickets mode): which replies go out
 * to the person, how far the occurrences are synced, and whether the conversation ends.
 */
export interface PolledRequest {
  number: string;
  status: string;
  solution?: string;
  finished: boolean;
}

export interface PolledOccurrence {
  id: string;
  description: string;
  byIntegrationUser: boolean;
}

export interface ReplySyncPlan {
  /** In the order the person should read them; the solution last. */
  outbound: OutboundMessage[];
  /** The newest occurrence seen (ours included), to start from next time. */
  lastSyncedOccurrenceId?: string;
  /** The request is finished: the conversation closes once the replies are queued. */
  close: boolean;
}

/** Occurrence ids are numbers, possibly beyond 2^53: compare them as digit strings. */
export function compareOccurrenceIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = a.replace(/^0+(?=\d)/, '');
    const y = b.replace(/^0+(?=\d)/, '');
    return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export function newerOccurrenceId(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareOccurrenceIds(a, b) >= 0 ? a : b;
}

export function planReplySync(conversation: Conversation, request: PolledRequest, occurrences: PolledOccurrence[]): ReplySyncPlan {
  const base = {
    xUserId: conversation.xUserId,
    recipientId: conversation.xUserId,
    requestNumber: request.number,
    conversationId: conversation.conversationId,
  };
  const since = conversation.lastSyncedOccurrenceId;
  const fresh = occurrences
    .filter((o) => since === undefined || compareOccurrenceIds(o.id, since) > 0)
    .sort((a, b) => compareOccurrenceIds(a.id, b.id));
  const outbound: OutboundMessage[] = [];
  for (const o of fresh) {
    if (o.byIntegrationUser) continue;
    const text = formatOccurrence(o.description);
    // An occurrence with no words (an empty note, only markup) has nothing to tell the person.
    if (text) outbound.push({ ...base, text, sourceId: o.id, kind: 'occurrence' });
  }
  if (request.finished) {
    const text = formatSolution({ requestNumber: request.number, status: request.status, solution: request.solution });
    outbound.push({ ...base, text, sourceId: solutionSourceId(request.number), kind: 'solution' });
  }
  return {
    outbound,
    lastSyncedOccurrenceId: fresh.reduce<string | undefined>((max, o) => newerOccurrenceId(max, o.id), since),
    close: request.finished,
  };
}
