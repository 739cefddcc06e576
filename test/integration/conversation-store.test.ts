import { processedKey, PROCESSED_EVENT_LIFETIME_SECONDS } from '../../functions/core/processed-key';
import { GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoConversationStore } from '../../functions/adapters/conversation-store';
import { TableLayout } from '../../functions/adapters/conversation-table';
import { closeByFourbiz, openConversation } from '../../functions/core/conversation';
import { createTestTable, testDynamoClient } from '../support/aws';
import { CONTRACT_NOW, conversationStoreContract } from '../support/conversation-store-contract';

describe('DynamoDB conversation store', () => {
  const dynamo = testDynamoClient();
  const doc = DynamoDBDocumentClient.from(dynamo);
  afterAll(() => dynamo.destroy());

  conversationStoreContract('DynamoDB', async (now) => dynamoConversationStore(doc, await createTestTable(dynamo), { now }));

  describe('its items', () => {
    let table: string;
    beforeAll(async () => {
      table = await createTestTable(dynamo);
    });
    const store = () => dynamoConversationStore(doc, table, { now: () => CONTRACT_NOW });
    const at = new Date('2026-11-25T11:00:00Z');

    it('a closed conversation drops out of the sparse open index', async () => {
      const s = store();
      const a = await s.save(openConversation({ id: '221' }, at), undefined);
      await s.save(closeByFourbiz(a, at), a.version);
      const raw = await doc.send(new GetCommand({ TableName: table, Key: { pk: TableLayout.conversationKey('221') } }));
      expect(raw.Item?.[TableLayout.openIndex.partitionKey]).toBeUndefined();
    });

    it('a processed record carries its expiry as the TTL attribute', async () => {
      await store().markProcessed(processedKey.inbound('1001'), '111');
      const raw = await doc.send(new GetCommand({ TableName: table, Key: { pk: 'EVT#IN#1001' } }));
      expect(raw.Item?.expiresAt).toBe(Math.floor(CONTRACT_NOW / 1000) + PROCESSED_EVENT_LIFETIME_SECONDS);
    });
  });
});
