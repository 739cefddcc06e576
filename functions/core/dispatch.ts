import type { ConversationStore, DeliveryContext, DeliveryResult, FourbizClient } from './ports';
import { CONFLICT_ATTEMPTS, withConflictRetry } from './conflict-retry';
import { conversationForInbound, recordInboundDelivered, type Conversation } from './conversation';
import { bookkeepingTime, type InboundMessage } from './x-events';
import { processedKey } from './processed-key';

/**
 * Processing one inbound message: skip it if it was already delivered, make sure the conversation
 * it belongs to is open (closing an idle one), deliver it to 4biz, then record the delivery and
 * the conversation update together. Errors from 4biz keep their class (Permanent/Transient); any
 * other error is transient for the caller.
 */
export interface DispatchDeps {
  store: ConversationStore;
  fourbiz: FourbizClient;
  idleMinutes: number;
  /** Milliseconds, for the 4biz latency. */
  clock?: () => number;
  /** Told as soon as a conversation is opened or closed, even if the delivery then fails. */
  onOpened?: (conversation: Conversation) => void;
  onClosed?: (conversation: Conversation) => void;
  maxConflictRetries?: number;
}

export type DispatchOutcome =
  | { kind: 'duplicate' }
  | { kind: 'delivered'; conversation: Conversation; latencyMs: number; result: DeliveryResult };


export async function dispatchInbound(message: InboundMessage, deps: DispatchDeps, context: DeliveryContext = { retried: false }): Promise<DispatchOutcome> {
  const { store, fourbiz, idleMinutes } = deps;
  const clock = deps.clock ?? Date.now;
  const attempts = deps.maxConflictRetries ?? CONFLICT_ATTEMPTS;
  const xUserId = message.sender.id;
  const sentAt = bookkeepingTime(message, clock());

  // An XChat message is the same message whichever delivery brought it: its signed id.
  const key = message.xchat ? processedKey.chat(message.xchat.messageId) : processedKey.inbound(message.eventId);
  if (await store.isProcessed(key)) return { kind: 'duplicate' };

  // The conversation is stored open before delivery, so a retried message lands in the same one.
  const open = await withConflictRetry(attempts, async () => {
    const current = await store.get(xUserId);
    const next = conversationForInbound(current, message.sender, sentAt, idleMinutes);
    if (!next.opened) return next.conversation;
    const saved = await store.save(next.conversation, current?.version);
    if (next.closed) deps.onClosed?.(next.closed);
    deps.onOpened?.(saved);
    return saved;
  });

  const started = clock();
  const result = await fourbiz.deliver(message, open, context);
  const latencyMs = clock() - started;

  const conversation = await withConflictRetry(attempts, async (attempt) => {
    const base = attempt === 0 ? open : await store.get(xUserId);
    const updated = recordInboundDelivered(base ?? open, {
      eventId: message.eventId,
      sentAt,
      participant: message.sender,
      requestNumber: result.requestNumber,
      xchatConversationId: message.xchat?.conversationId,
    });
    return store.saveDelivered(updated, base?.version, key);
  });

  return { kind: 'delivered', conversation, latencyMs, result };
}
