import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoRefusedDeliveryLog, dynamoWebhookHealthStore } from '../../functions/adapters/webhook-health-store';
import { createTestTable, testDynamoClient } from '../support/aws';

/** The webhook's refusals item on DynamoDB Local: first refusal kept, last overwritten, cleared only as read. */
describe('refused deliveries in the conversation table', () => {
  const dynamo = testDynamoClient();
  const doc = DynamoDBDocumentClient.from(dynamo);
  let table: string;

  beforeAll(async () => {
    table = await createTestTable(dynamo);
  });
  afterAll(() => dynamo.destroy());

  it('keeps the first refusal and the last, holds only times, and is cleared only if no refusal came after the read', async () => {
    const log = dynamoRefusedDeliveryLog(doc, table);
    const store = dynamoWebhookHealthStore(doc, table);
    expect(await store.refusals()).toBeUndefined();
    await log.record(1_000);
    await log.record(5_000);
    await log.record(5_000);
    const read = await store.refusals();
    expect(read).toEqual({ firstAt: 1_000, lastAt: 5_000 });
    const item = (await doc.send(new GetCommand({ TableName: table, Key: { pk: 'WEBHOOK#refused' } }))).Item;
    expect(Object.keys(item!).sort()).toEqual(['firstAt', 'lastAt', 'pk']);

    await log.record(9_000);
    await store.clearRefusals(read!);
    expect(await store.refusals()).toEqual({ firstAt: 1_000, lastAt: 9_000 });
    await store.clearRefusals({ firstAt: 1_000, lastAt: 9_000 });
    expect(await store.refusals()).toBeUndefined();
    // Clearing what is already gone is harmless (a rerun).
    await store.clearRefusals({ firstAt: 1_000, lastAt: 9_000 });
    await log.record(12_000);
    expect(await store.refusals()).toEqual({ firstAt: 12_000, lastAt: 12_000 });
  });
});
