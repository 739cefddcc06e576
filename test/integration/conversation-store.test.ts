import { processedKey, PROCESSED_EVENT_LIFETIME_SECONDS, X_REPLAY_WINDOW_SECONDS } from '../../functions/core/processed-key';
import { GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../functions/core/errors';
import { dynamoConversationStore } from '../../functions/adapters/conversation-store';
import { ConversationTable } from '../../functions/adapters/conversation-table';
import { closeByFourbiz, openConversation, recordInboundDelivered } from '../../functions/core/conversation';
import { createTestTable, testDynamoClient } from '../support/aws';

describe('DynamoDB conversation store', () => {
  const dynamo = testDynamoClient();
  const doc = DynamoDBDocumentClient.from(dynamo);
  let table: string;
  const now = Date.parse('2026-11-25T12:00:00Z');
  beforeAll(async () => {
    table = await createTestTable(dynamo);
  });
  afterAll(() => dynamo.destroy());

  const store = () => dynamoConversationStore(doc, table, { now: () => now });
  const at = new Date('2026-11-25T11:00:00Z');

  it('creates a conversation once and then only over the version it read (optimistic locking)', async () => {
    const s = store();
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

  it('lists only open conversations (sparse index), so a closed one drops out', async () => {
    const s = store();
    const a = await s.save(openConversation({ id: '221' }, at), undefined);
    await s.save(openConversation({ id: '222' }, at), undefined);
    await s.save(closeByFourbiz(a, at), a.version);
    const open = (await s.listOpen()).map((c) => c.xUserId);
    expect(open).toContain('222');
    expect(open).not.toContain('221');
    const raw = await doc.send(new GetCommand({ TableName: table, Key: { pk: ConversationTable.conversationKey('221') } }));
    expect(raw.Item?.[ConversationTable.openIndex.partitionKey]).toBeUndefined();
  });

  it('remembers processed events beyond X\'s replay window and forgets them once expired', async () => {
    const key = processedKey.inbound('1001');
    await store().markProcessed(key, '111');
    await store().markProcessed(key, '111');
    expect(await store().isProcessed(key)).toBe(true);
    expect(await store().isProcessed(processedKey.inbound('1002'))).toBe(false);
    // Separate key spaces: the same id as a sent-marker is another record.
    expect(await store().isProcessed(processedKey.sent('1001'))).toBe(false);
    const raw = await doc.send(new GetCommand({ TableName: table, Key: { pk: 'EVT#IN#1001' } }));
    expect(raw.Item?.expiresAt).toBe(Math.floor(now / 1000) + PROCESSED_EVENT_LIFETIME_SECONDS);
    expect(PROCESSED_EVENT_LIFETIME_SECONDS).toBeGreaterThanOrEqual(X_REPLAY_WINDOW_SECONDS);
    const twoDaysLater = dynamoConversationStore(doc, table, { now: () => now + 2 * 86_400_000 });
    expect(await twoDaysLater.isProcessed(key)).toBe(true);
    const afterLifetime = dynamoConversationStore(doc, table, { now: () => now + (PROCESSED_EVENT_LIFETIME_SECONDS + 60) * 1000 });
    expect(await afterLifetime.isProcessed(key)).toBe(false);
  });

  it('counts a message\'s failed attempts per key', async () => {
    const key = processedKey.inbound('1003');
    expect(await store().countAttempt(key)).toBe(1);
    expect(await store().countAttempt(key)).toBe(2);
    expect(await store().countAttempt(processedKey.sent('1003'))).toBe(1);
    await store().resetAttempts(key);
    expect(await store().countAttempt(key)).toBe(1);
  });

  it('records a delivery and its conversation update together, or neither on a conflict', async () => {
    const s = store();
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
