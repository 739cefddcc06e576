import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoPollMarks } from '../../functions/adapters/poll-marks-store';
import { createTestTable, testDynamoClient } from '../support/aws';

describe('poll marks in the conversation table (when the poller last polled each conversation)', () => {
  const dynamo = testDynamoClient();
  const doc = DynamoDBDocumentClient.from(dynamo);
  let table: string;
  beforeAll(async () => {
    table = await createTestTable(dynamo);
  });
  afterAll(() => dynamo.destroy());

  it('starts empty, and keeps 7,000 conversations\' marks across items under DynamoDB\'s item limit', async () => {
    const store = dynamoPollMarks(doc, table);
    expect(await store.load()).toEqual({});
    const marks = Object.fromEntries(Array.from({ length: 7_000 }, (_, i) => [`29000000000000${String(i).padStart(5, '0')}-1`, 1_796_212_800_000 + i]));
    await store.save(marks);
    expect(await store.load()).toEqual(marks);
    // Fewer later: the items no longer counted are not read.
    await store.save({ 'a-1': 5 });
    expect(await store.load()).toEqual({ 'a-1': 5 });
  }, 30_000);

  it('reads an unreadable record as no marks (every conversation due: calls, never a lost answer)', async () => {
    await doc.send(new PutCommand({ TableName: table, Item: { pk: 'CURSOR#reply-poll', marks: 'garbage' } }));
    expect(await dynamoPollMarks(doc, table).load()).toEqual({});
  });
});
