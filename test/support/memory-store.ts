import type { ConversationStore, DeadLetter, PollMarksStore, QueueControl } from '../../functions/core/ports';
import type { PollMarks } from '../../functions/core/poll-schedule';
import type { Conversation } from '../../functions/core/conversation';
import { ConflictError } from '../../functions/core/errors';
import { PROCESSED_EVENT_LIFETIME_SECONDS, type ProcessedKey } from '../../functions/core/processed-key';

/**
 * The conversation store in memory. It passes the same contract tests as the DynamoDB store
 * (test/support/conversation-store-contract.ts): versions checked like the conditional writes,
 * processed records that expire after their lifetime, attempt counts per key.
 */
export function memoryStore(
  initial: Conversation[] = [],
  opts: { now?: () => number; processedTtlSeconds?: number } = {},
): ConversationStore & {
  conversations: Map<string, Conversation>;
  attempts: Map<ProcessedKey, number>;
  /** Test hook: the next save()s fail as if another writer had just updated the conversation. */
  conflictsToRaise: number;
} {
  const now = opts.now ?? Date.now;
  const ttl = opts.processedTtlSeconds ?? PROCESSED_EVENT_LIFETIME_SECONDS;
  const conversations = new Map(initial.map((c) => [c.xUserId, c]));
  /** Processed key → when its record expires (epoch seconds, as the table's TTL attribute). */
  const processed = new Map<ProcessedKey, number>();
  const attempts = new Map<ProcessedKey, number>();
  const expiry = () => Math.floor(now() / 1000) + ttl;
  const store = {
    conversations,
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
      const expiresAt = processed.get(key);
      return expiresAt !== undefined && expiresAt * 1000 > now();
    },
    async markProcessed(key: ProcessedKey) {
      // Marking twice is the same fact: the first record (and its expiry) stays.
      if (!processed.has(key)) processed.set(key, expiry());
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
      processed.set(key, expiry());
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

/** The poller's marks in memory (adapters/poll-marks-store keeps them in the table). */
export function memoryPollMarks(initial: PollMarks = {}): PollMarksStore & { marks: PollMarks } {
  const self = {
    marks: { ...initial },
    load: async () => ({ ...self.marks }),
    save: async (marks: PollMarks) => void (self.marks = { ...marks }),
  };
  return self;
}
