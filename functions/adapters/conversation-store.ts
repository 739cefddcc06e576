import type { Conversation } from '../core/conversation';

/** Thrown when a conditional write lost a race (someone else wrote the item first). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * Conversation state and processed-event records (DynamoDB, one table). The DynamoDB
 * implementation lives beside this interface; tests run it against DynamoDB Local.
 */
export interface ConversationStore {
  get(xUserId: string): Promise<Conversation | undefined>;
  /**
   * Writes the conversation with optimistic locking: `expectedVersion` undefined means it must not
   * exist yet; otherwise the stored version must equal it. Stores `version = expectedVersion + 1`
   * (or 1). Throws ConflictError when the condition fails.
   */
  save(conversation: Conversation, expectedVersion: number | undefined): Promise<Conversation>;
  /** Open conversations (tickets mode poller). */
  listOpen(): Promise<Conversation[]>;
  /** True when the event was already delivered (idempotency beyond SQS's 5-minute window). */
  isProcessed(eventId: string): Promise<boolean>;
  /** Records a delivered event (TTL 7 days). */
  markProcessed(eventId: string, xUserId: string): Promise<void>;
}
