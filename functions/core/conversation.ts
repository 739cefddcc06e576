/**
 * A conversation: what the bridge knows about one X user's exchange with the company, from its
 * first DM until it is closed (relay mode: the idle timeout; tickets mode: 4biz resolving, closing
 * or cancelling the request).
 * Stored as `pk=CONV#<xUserId>`; one open conversation per X user at a time.
 */
type ConversationStatus = 'OPEN' | 'CLOSED';

export interface Conversation {
  xUserId: string;
  /** Unique per conversation (a user's next conversation gets a new one): 4biz's numberOrigin in tickets mode. */
  conversationId: string;
  handle?: string;
  name?: string;
  status: ConversationStatus;
  openedAt: string;
  lastActivityAt: string;
  closedAt?: string;
  closeReason?: CloseReason;
  messagesIn: number;
  messagesOut: number;
  lastDeliveredEventId?: string;
  /** tickets mode: the 4biz request number. */
  requestNumber?: string;
  /** tickets mode: every occurrence numbered up to this one is handled (the low-water mark). */
  lastSyncedOccurrenceId?: string;
  /** tickets mode: occurrences above the low-water mark already handled (bounded; see reply-sync). */
  syncedOccurrenceIds?: string[];
  /** The XChat conversation the person last wrote from (answers go back there, encrypted); unset after a plain DM. */
  xchatConversationId?: string;
  /** Optimistic locking: incremented on every write. */
  version: number;
}

/** Why a conversation ended: the tenant's idle timeout, or 4biz closing the request (tickets mode). */
export type CloseReason = 'idle' | 'fourbiz';

/** The ids and names of the X user a conversation is with, as a DM carries them. */
export interface Participant {
  id: string;
  handle?: string;
  name?: string;
}

/** What the dispatcher must do with the stored conversation before delivering an inbound message. */
export interface InboundTransition {
  /** The conversation the message belongs to (already open). */
  conversation: Conversation;
  /** True when this message starts a conversation (first DM ever, or after one was closed). */
  opened: boolean;
  /** The conversation this message closed because it had been idle too long. */
  closed?: Conversation;
}

const MINUTE_MS = 60_000;

/**
 * A conversation's id: the X user and the instant of the DM that opened it. Deterministic, so a
 * retried message re-creates the same id, and new for every later conversation of the same user.
 */
function conversationIdFor(xUserId: string, openedAtMs: number): string {
  return `${xUserId}-${openedAtMs}`;
}

export function openConversation(participant: Participant, at: Date): Conversation {
  const iso = at.toISOString();
  return {
    xUserId: participant.id,
    conversationId: conversationIdFor(participant.id, at.getTime()),
    handle: participant.handle,
    name: participant.name,
    status: 'OPEN',
    openedAt: iso,
    lastActivityAt: iso,
    messagesIn: 0,
    messagesOut: 0,
    version: 0,
  };
}

/** Idle means: the gap between the last activity and `at` is longer than the timeout. */
export function isIdle(conversation: Conversation, at: Date, idleMinutes: number): boolean {
  return at.getTime() - Date.parse(conversation.lastActivityAt) > idleMinutes * MINUTE_MS;
}

export function closeConversation(conversation: Conversation, at: Date, reason: CloseReason): Conversation {
  if (conversation.status === 'CLOSED') return conversation;
  return { ...conversation, status: 'CLOSED', closedAt: at.toISOString(), closeReason: reason };
}

/** 4biz resolved or closed the request: the next DM of this user starts a new conversation. */
export function closeByFourbiz(conversation: Conversation, at: Date): Conversation {
  return closeConversation(conversation, at, 'fourbiz');
}

/**
 * The conversation an inbound DM sent at `sentAt` belongs to. Time is the DM's own timestamp, not
 * the processing time, so that DMs buffered while 4biz was down do not look idle.
 */
export function conversationForInbound(
  current: Conversation | undefined,
  participant: Participant,
  sentAt: Date,
  idleMinutes: number,
): InboundTransition {
  if (!current || current.status === 'CLOSED') {
    return { conversation: carryVersion(openConversation(participant, sentAt), current), opened: true };
  }
  // A conversation with a 4biz request (tickets mode) lives as long as the request: 4biz closes it,
  // not the idle timeout, so the person's next DM and an agent's late answer stay on that request.
  if (current.requestNumber === undefined && isIdle(current, sentAt, idleMinutes)) {
    const closed = closeConversation(current, sentAt, 'idle');
    return { conversation: carryVersion(openConversation(participant, sentAt), current), opened: true, closed };
  }
  return { conversation: current, opened: false };
}

/** The next conversation lives in the same item: it keeps the stored version for optimistic locking. */
function carryVersion(next: Conversation, stored: Conversation | undefined): Conversation {
  return stored ? { ...next, version: stored.version } : next;
}

function later(a: string, b: Date): string {
  return Date.parse(a) >= b.getTime() ? a : b.toISOString();
}

/** An inbound DM reached 4biz. */
export function recordInboundDelivered(
  conversation: Conversation,
  delivered: { eventId: string; sentAt: Date; participant: Participant; requestNumber?: string; xchatConversationId?: string },
): Conversation {
  return {
    ...conversation,
    xchatConversationId: delivered.xchatConversationId,
    handle: delivered.participant.handle ?? conversation.handle,
    name: delivered.participant.name ?? conversation.name,
    messagesIn: conversation.messagesIn + 1,
    lastDeliveredEventId: delivered.eventId,
    lastActivityAt: later(conversation.lastActivityAt, delivered.sentAt),
    requestNumber: delivered.requestNumber ?? conversation.requestNumber,
  };
}

/** A reply from 4biz was sent to the X user (tickets mode). */
export function recordOutbound(conversation: Conversation, at: Date): Conversation {
  return { ...conversation, messagesOut: conversation.messagesOut + 1, lastActivityAt: later(conversation.lastActivityAt, at) };
}
