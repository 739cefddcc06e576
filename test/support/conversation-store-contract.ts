import { ConflictError } from '../../functions/core/errors';
import { closeByFourbiz, openConversation, recordInboundDelivered } from '../../functions/core/conversation';
import type { ConversationStore } from '../../functions/core/ports';
import { processedKey, PROCESSED_EVENT_LIFETIME_SECONDS, X_REPLAY_WINDOW_SECONDS } from '../../functions/core/processed-key';

/**
 * What every ConversationStore promises (functions/core/ports.ts), as tests run against each
 * implementation: the DynamoDB store (integration) and the in-memory one the unit tests use.
 * `makeStore` gets the clock the store must read; the stores it makes for one run share their data.
 */
export const CONTRACT_NOW = Date.parse('2026-11-25T12:00:00Z');

export function conversationStoreContract(name: string, makeStore: (now: () => number) => ConversationStore | Promise<ConversationStore>): void {
  describe(`${name}: the conversation store contract`, () => {
    let clock = CONTRACT_NOW;
    let s: ConversationStore;
    beforeAll(async () => {
      s = await makeStore(() => clock);
    });
    afterEach(() => {
      clock = CONTRACT_NOW;
    });
    const at = new Date('2026-11-25T11:00:00Z');

    it('creates a conversation once and then only over the version it read (optimistic locking)', async () => {
      const c = openConversation({ id: '111', handle: 'ana' }, at);
      const v1 = await s.save(c, undefined);
      expect(v1.version).toBe(1);
      await expect(s.save(c, undefined)).rejects.toBeInstanceOf(ConflictError);
      const v2 = await s.save(recordInboundDelivered(v1, { eventId: 'e1', sentAt: at, participant: { id: '111' } }), 1);
      expect(v2).toMatchObject({ version: 2, messagesIn: 1 });
      await expect(s.save(v1, 1)).rejects.toBeInstanceOf(ConflictError);
      expect(await s.get('111')).toEqual(v2);
      expect(await s.get('nobody')).toBeUndefined();
    });

    it('lists only open conversations, so a closed one drops out', async () => {
      const a = await s.save(openConversation({ id: '221' }, at), undefined);
      await s.save(openConversation({ id: '222' }, at), undefined);
      await s.save(closeByFourbiz(a, at), a.version);
      const open = (await s.listOpen()).map((c) => c.xUserId);
      expect(open).toContain('222');
      expect(open).not.toContain('221');
    });

    it("remembers processed events beyond X's replay window and forgets them once expired", async () => {
      const key = processedKey.inbound('1001');
      await s.markProcessed(key, '111');
      await s.markProcessed(key, '111');
      expect(await s.isProcessed(key)).toBe(true);
      expect(await s.isProcessed(processedKey.inbound('1002'))).toBe(false);
      // Separate key spaces: the same id as a sent-marker is another record.
      expect(await s.isProcessed(processedKey.sent('1001'))).toBe(false);
      expect(PROCESSED_EVENT_LIFETIME_SECONDS).toBeGreaterThanOrEqual(X_REPLAY_WINDOW_SECONDS);
      clock = CONTRACT_NOW + 2 * 86_400_000;
      expect(await s.isProcessed(key)).toBe(true);
      clock = CONTRACT_NOW + (PROCESSED_EVENT_LIFETIME_SECONDS + 60) * 1000;
      expect(await s.isProcessed(key)).toBe(false);
    });

    it("counts a message's failed attempts per key", async () => {
      const key = processedKey.inbound('1003');
      expect(await s.countAttempt(key)).toBe(1);
      expect(await s.countAttempt(key)).toBe(2);
      expect(await s.countAttempt(processedKey.sent('1003'))).toBe(1);
      await s.resetAttempts(key);
      expect(await s.countAttempt(key)).toBe(1);
    });

    it('records a delivery and its conversation update together, or neither on a conflict', async () => {
      const c = await s.save(openConversation({ id: '331' }, at), undefined);
      const delivered = recordInboundDelivered(c, { eventId: 'evt-331', sentAt: at, participant: { id: '331' } });
      const key = processedKey.inbound('331');
      await expect(s.saveDelivered(delivered, c.version + 5, key)).rejects.toBeInstanceOf(ConflictError);
      expect(await s.isProcessed(key)).toBe(false);
      await s.saveDelivered(delivered, c.version, key);
      expect(await s.isProcessed(key)).toBe(true);
      expect(await s.get('331')).toMatchObject({ messagesIn: 1, lastDeliveredEventId: 'evt-331', version: c.version + 1 });
    });
  });
}
