import type { ConversationStore, DeadLetter, QueueControl } from '../../functions/core/ports';
import type { Conversation } from '../../functions/core/conversation';
import { ConflictError } from '../../functions/core/errors';
import type { ProcessedKey } from '../../functions/core/processed-key';

/** The store's contract in memory: versions checked like the conditional writes do. */
export function memoryStore(initial: Conversation[] = []): ConversationStore & {
  conversations: Map<string, Conversation>;
  processed: Set<ProcessedKey>;
  attempts: Map<ProcessedKey, number>;
  conflictsToRaise: number;
} {
  const conversations = new Map(initial.map((c) => [c.xUserId, c]));
  const processed = new Set<ProcessedKey>();
  const attempts = new Map<ProcessedKey, number>();
  const store = {
    conversations,
    processed,
    attempts,
    conflictsToRaise: 0,
    async get(id: string) {
      return conversations.get(id);
    },
    async save(c: Conversation, expected: number | undefined) {
      if (store.conflictsToRaise > 0) {
        store.conflictsToRaise--;
        // Someone else wrote meanwhile.
        const cur = conversations.get(c.xUserId);
        if (cur) conversations.set(c.xUserId, { ...cur, messagesOut: cur.messagesOut + 1, version: cur.version + 1 });
        throw new ConflictError('raced');
      }
      if (conversations.get(c.xUserId)?.version !== expected) throw new ConflictError('version');
      const saved = { ...c, version: (expected ?? 0) + 1 };
      conversations.set(c.xUserId, saved);
      return saved;
    },
    async listOpen() {
      return [...conversations.values()].filter((c) => c.status === 'OPEN');
    },
    async isProcessed(key: ProcessedKey) {
      return processed.has(key);
    },
    async markProcessed(key: ProcessedKey) {
      processed.add(key);
    },
    async countAttempt(key: ProcessedKey) {
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      return n;
    },
    async resetAttempts(key: ProcessedKey) {
      attempts.set(key, 0);
    },
    async saveDelivered(c: Conversation, expected: number | undefined, key: ProcessedKey) {
      const saved = await store.save(c, expected);
      processed.add(key);
      return saved;
    },
  };
  return store;
}

/** A QueueControl that records what the consumer asked for. */
export function recordingQueueControl(): QueueControl & { retries: { receiptHandle: string; seconds: number }[]; deadLetters: DeadLetter[] } {
  const retries: { receiptHandle: string; seconds: number }[] = [];
  const deadLetters: DeadLetter[] = [];
  return {
    retries,
    deadLetters,
    retryIn: async (receiptHandle, seconds) => void retries.push({ receiptHandle, seconds }),
    deadLetter: async (d) => void deadLetters.push(d),
  };
}
