/**
 * A conversation: what the bridge knows about one X user's exchange with the company, from its
 * first DM until it is closed (idle timeout, or 4biz resolving the request in tickets mode).
 * Stored as `pk=CONV#<xUserId>`; one open conversation per X user at a time.
 */
export type ConversationStatus = 'OPEN' | 'CLOSED';

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
  messagesIn: number;
  messagesOut: number;
  lastDeliveredEventId?: string;
  /** tickets mode: the 4biz request number and the last occurrence already synced back to X. */
  requestNumber?: string;
  lastSyncedOccurrenceId?: string;
  /** Optimistic locking: incremented on every write. */
  version: number;
}
