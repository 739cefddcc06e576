import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as dlq } from '../../cli/dlq';
import { requeueParked } from '../../cli/dlq-parked';
import { createConversationTable, TableLayout } from '../../functions/adapters/conversation-table';
import { dynamoInboundParking } from '../../functions/adapters/inbound-parking';
import { PermanentError } from '../../functions/core/errors';
import { processedKey } from '../../functions/core/processed-key';
import { QUEUE_RETENTION_SECONDS } from '../../functions/core/queue-limits';
import { inboundMessageSchema, inboundQueueBody } from '../../functions/core/x-events';
import { signPayload } from '../../functions/core/x-signature';
import { createWebhookHandler } from '../../functions/webhook/handler';
import { resourceNames } from '../../infra/resource-names';
import { testDynamoClient, testSqsClient, uniqueName } from '../support/aws';
import { modelDm, T0 } from '../support/fifo-model-tenant';
import { testObservability } from '../support/observability';
import { fixtureAccountId, fixtureBytes, fixtureClock, httpEvent, lambdaContext, testSecret, vectors } from '../support/x-fixtures';
import { staticSecretSource } from '../../functions/adapters/secrets';

/**
 * Issue 16 §4: a DM the inbound queue refuses is parked in the tenant's table (webhook answers 200),
 * and `npm run dlq -- parked --requeue` sends it on: once, each person's DMs in their order.
 */
jest.setTimeout(30_000);

const sqs: SQSClient = testSqsClient();
const dynamo = testDynamoClient();
const doc = DynamoDBDocumentClient.from(dynamo);
afterAll(() => {
  sqs.destroy();
  dynamo.destroy();
});

/** A relay tenant (account "1") with its inbound queue pair and its table. */
async function tenantWithTable() {
  const tenant = uniqueName('p').toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const names = resourceNames(tenant);
  const url = async (QueueName: string) => (await sqs.send(new CreateQueueCommand({ QueueName, Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  const queueUrl = await url(names.inboundQueue);
  await url(names.inboundDlq);
  await createConversationTable(dynamo, names.table);
  const dir = mkdtempSync(join(tmpdir(), 'tenants-'));
  writeFileSync(
    join(dir, `${tenant}.json`),
    JSON.stringify({
      name: tenant,
      region: 'sa-east-1',
      xAccountId: '1',
      fourbiz: { mode: 'tickets', baseUrl: 'https://empresa.4biz.one/4biz', platform: 'p', contractId: 1, serviceCode: 'S', groupId: 'G', urgency: 'M', impact: 'M' },
    }),
  );
  const run = async (...args: string[]) => {
    const out: string[] = [];
    const code = await dlq(['parked', '--tenant', tenant, ...args], (l) => out.push(l), sqs, { tenantsDir: dir, dynamo: doc });
    return { code, out };
  };
  return { table: names.table, queueUrl, run };
}

async function drain(queueUrl: string) {
  const received: { group: string; dedup: string; body: string }[] = [];
  for (let empty = 0; empty < 2; ) {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));
    if (!Messages?.length) {
      empty++;
      continue;
    }
    for (const m of Messages) {
      received.push({ group: m.Attributes!.MessageGroupId!, dedup: m.Attributes!.MessageDeduplicationId!, body: m.Body! });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return received;
}

describe('parked inbound messages (DynamoDB Local + fauxqs)', () => {
  it('the webhook parks what the queue refuses (200, once across X\'s retries); requeue sends each once, in order, and empties the table', async () => {
    const { table, queueUrl, run } = await tenantWithTable();
    const observability = testObservability();
    const webhook = createWebhookHandler({
      ...observability,
      secrets: staticSecretSource(testSecret),
      queue: { send: async () => Promise.reject(new Error('queue down')) },
      parking: dynamoInboundParking(doc, table, () => T0),
      xAccountId: fixtureAccountId,
      clock: fixtureClock,
    });
    const body = fixtureBytes('batch-two-users.json');
    const event = httpEvent({ body, headers: { 'x-twitter-webhooks-signature': signPayload(vectors.consumerSecret, body) } });
    for (let n = 0; n < 2; n++) expect((await webhook(event, lambdaContext)).statusCode).toBe(200);
    expect(observability.published()).toMatchObject({ InboundParked: 3 });

    const item = (await doc.send(new GetCommand({ TableName: table, Key: { pk: TableLayout.parkedKey(processedKey.inbound('1861000000000000301')) } }))).Item!;
    expect(item[TableLayout.ttlAttribute]).toBe(T0 / 1000 + QUEUE_RETENTION_SECONDS);

    const listed = await run();
    expect(listed.code).toBe(0);
    expect(listed.out.at(-1)).toBe(`3 parked inbound message(s) in ${table}`);
    expect(listed.out.slice(0, 3).map((l) => l.split(' ')[0])).toEqual(['1861000000000000301', '1861000000000000302', '1861000000000000303']);
    // Ids, age and sender: never the DM text.
    const texts = JSON.parse(body.toString()).direct_message_events.map((e: { message_create: { message_data: { text: string } } }) => e.message_create.message_data.text);
    for (const line of listed.out) for (const text of texts) expect(line).not.toContain(text);

    const requeued = await run('--requeue');
    expect(requeued.out.at(-1)).toMatch(/^done: 3 parked message\(s\) sent to /);
    const received = await drain(queueUrl);
    expect(received.map((r) => r.dedup)).toEqual(['1861000000000000301', '1861000000000000302', '1861000000000000303']);
    for (const r of received) expect(inboundMessageSchema.safeParse(JSON.parse(r.body)).success).toBe(true);
    expect((await run()).out).toEqual([`0 parked inbound message(s) in ${table}`]);
    expect((await run('--requeue')).out).toEqual([expect.stringMatching(/^done: 0 parked/)]);
  });

  it('requeues a person\'s DMs in the order they were written, with the webhook\'s group and dedup ids', async () => {
    const { table, queueUrl, run } = await tenantWithTable();
    const parking = dynamoInboundParking(doc, table, () => T0);
    const [a1, b1, a2, a3] = [modelDm('21', 'a1', T0 + 1), modelDm('22', 'b1', T0 + 2), modelDm('21', 'a2', T0 + 3), modelDm('21', 'a3', T0 + 4)];
    // Parked out of order, by separate deliveries.
    expect(await parking.park([a3])).toBe(1);
    expect(await parking.park([a1, b1])).toBe(2);
    expect(await parking.park([a2, a1])).toBe(1);
    await run('--requeue');
    const received = await drain(queueUrl);
    expect(received.filter((r) => r.group === '21').map((r) => r.dedup)).toEqual(['a1', 'a2', 'a3']);
    expect(received.filter((r) => r.group === '22').map((r) => r.dedup)).toEqual(['b1']);
    expect(JSON.parse(received.find((r) => r.dedup === 'a2')!.body)).toEqual(inboundQueueBody(a2));
  });

  it('keeps a parked message when the queue does not take it, and refuses one over a table item', async () => {
    const { table, queueUrl, run } = await tenantWithTable();
    const parking = dynamoInboundParking(doc, table, () => T0);
    const huge = { ...modelDm('21', 'big', T0), raw: { ...modelDm('21', 'big', T0).raw, users: { '21': { id: '21', description: 'x'.repeat(400 * 1024) } } } };
    await expect(parking.park([huge])).rejects.toThrow(PermanentError);
    await parking.park([modelDm('21', 'kept', T0)]);
    // A queue that is not there refuses the send: nothing is deleted.
    const gone = queueUrl.replace(/[^/]+$/, `${uniqueName('gone')}.fifo`);
    await expect(requeueParked(doc, table, sqs, gone, () => undefined)).rejects.toThrow();
    expect((await run()).out.at(-1)).toBe(`1 parked inbound message(s) in ${table}`);
  });
});
