import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as dlq } from '../../cli/dlq';
import { dynamoConversationStore } from '../../functions/adapters/conversation-store';
import { createConversationTable } from '../../functions/adapters/conversation-table';
import type { OutboundMessage } from '../../functions/core/outbound-message';
import { inboundQueueBody } from '../../functions/core/x-events';
import { resourceNames } from '../../infra/resource-names';
import { testDynamoClient, testSqsClient, uniqueName } from '../support/aws';
import { modelDm, T0 } from '../support/fifo-model-tenant';

/**
 * `npm run dlq -- import` as an ingress: crafted export files (issue 16 §6) are refused line by
 * line before anything reaches a queue, and what is refused is said without the DM text.
 */
jest.setTimeout(30_000);

const COMPANY = '1';
const PERSON = '2900000000000000001';
const STRANGER = '2900000000000000666';
const PHISHING = 'Sua conta será bloqueada… https://evil.example/login';

const sqs: SQSClient = testSqsClient();
const dynamo = testDynamoClient();
const doc = DynamoDBDocumentClient.from(dynamo);
afterAll(() => {
  sqs.destroy();
  dynamo.destroy();
});

/** A tickets tenant (account "1") with its four queues and its conversation table, one conversation with PERSON. */
async function ticketsTenant() {
  const tenant = uniqueName('i').toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const names = resourceNames(tenant);
  const url = async (QueueName: string) => (await sqs.send(new CreateQueueCommand({ QueueName, Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  const urls = { inbound: await url(names.inboundQueue), outbound: await url(names.outboundQueue) };
  await url(names.inboundDlq);
  await url(names.outboundDlq);
  await createConversationTable(dynamo, names.table);
  const at = new Date(T0).toISOString();
  await dynamoConversationStore(doc, names.table).save(
    { xUserId: PERSON, conversationId: `${PERSON}-${T0}`, status: 'OPEN', openedAt: at, lastActivityAt: at, messagesIn: 1, messagesOut: 0, requestNumber: '4711', version: 0 },
    undefined,
  );
  const dir = mkdtempSync(join(tmpdir(), 'tenants-'));
  writeFileSync(
    join(dir, `${tenant}.json`),
    JSON.stringify({
      name: tenant,
      region: 'sa-east-1',
      xAccountId: COMPANY,
      fourbiz: { mode: 'tickets', baseUrl: 'https://empresa.4biz.one/4biz', platform: 'p', contractId: 1, serviceCode: 'S', groupId: 'G', urgency: 'M', impact: 'M' },
    }),
  );
  /** Writes an export file of these lines (objects are exported messages, strings are written as they are). */
  const file = (lines: (object | string)[]) => {
    const path = join(dir, `${uniqueName('f')}.jsonl`);
    writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
    return path;
  };
  const run = async (args: string[]) => {
    const out: string[] = [];
    const code = await dlq(['import', '--tenant', tenant, ...args], (l) => out.push(l), sqs, { tenantsDir: dir, dynamo: doc });
    return { code, out };
  };
  /** Everything the queue holds, in order (received and deleted: a FIFO queue hands out a group's next message once the one before is gone). */
  const waiting = async (kind: 'inbound' | 'outbound') => {
    const bodies: string[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: urls[kind], MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
      if (Messages.length === 0) return bodies;
      for (const m of Messages) {
        bodies.push(m.Body!);
        await sqs.send(new DeleteMessageCommand({ QueueUrl: urls[kind], ReceiptHandle: m.ReceiptHandle }));
      }
    }
  };
  return { tenant, names, file, run, waiting };
}

const reply = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  xUserId: PERSON,
  recipientId: PERSON,
  text: 'Sua solicitação 4711 foi registrada.',
  sourceId: 'occ-1',
  kind: 'occurrence',
  requestNumber: '4711',
  conversationId: `${PERSON}-${T0}`,
  ...over,
});
const exported = (queue: string, groupId: string, body: object, messageId = uniqueName('m')) => ({ messageId, groupId, body: JSON.stringify(body), queue });

describe('npm run dlq -- import validates every line', () => {
  it("refuses a crafted reply that has the company account DM a stranger a phishing link (no conversation of the tenant): nothing is sent, the text is never printed", async () => {
    const t = await ticketsTenant();
    const q = t.names.outboundDlq;
    const file = t.file([
      exported(q, STRANGER, reply({ xUserId: STRANGER, recipientId: STRANGER, text: PHISHING, conversationId: `${STRANGER}-1`, requestNumber: '9999' })),
      exported(q, PERSON, reply({ recipientId: STRANGER, text: PHISHING })),
      exported(q, PERSON, reply({ text: PHISHING, conversationId: `${PERSON}-999` })),
      exported(q, PERSON, reply({ text: PHISHING, requestNumber: '9999' })),
    ]);
    const { code, out } = await t.run(['--queue', 'outbound', '--file', file]);
    expect(code).toBe(1);
    expect(out).toEqual([
      `${file}:1: refused: the tenant has no conversation with X user ${STRANGER}`,
      `${file}:2: refused: reply to ${STRANGER} in the conversation with ${PERSON}`,
      `${file}:3: refused: conversation ${PERSON}-999 is not the tenant's conversation with X user ${PERSON}`,
      `${file}:4: refused: request 9999 is not that conversation's 4biz request`,
      '0 accepted, 4 refused',
      `done: 0 message(s) from ${file} sent to ${t.names.outboundQueue}`,
    ]);
    expect(out.join('\n')).not.toContain('evil.example');
    expect(await t.waiting('outbound')).toEqual([]);
  });

  it('refuses a fake DM "from" another account, the company\'s own DM, and a DM whose event was rewritten: nothing reaches the dispatcher', async () => {
    const t = await ticketsTenant();
    const q = t.names.inboundDlq;
    const dm = inboundQueueBody(modelDm(PERSON, '1861000000000000001', T0));
    const forOther = { ...dm, forUserId: '777', recipientId: '777', raw: { ...dm.raw, event: { ...dm.raw.event, message_create: { ...dm.raw.event.message_create!, target: { recipient_id: '777' } } } } };
    const own = inboundQueueBody(modelDm(COMPANY, '1861000000000000002', T0));
    const rewritten = { ...dm, sender: { id: STRANGER }, eventId: '1861000000000000003' };
    const chat = (accountId: string, senderId: string) => ({
      xchat: { eventUuid: 'e-1', accountId, senderId, conversationId: `${COMPANY}:${senderId}`, encodedEvent: 'AAAA', keyChangeEvents: [], receivedAt: new Date(T0).toISOString() },
    });
    const file = t.file([
      exported(q, PERSON, forOther),
      exported(q, COMPANY, own),
      exported(q, STRANGER, rewritten),
      exported(q, STRANGER, dm),
      exported(q, PERSON, { text: PHISHING }),
      exported(q, PERSON, chat('777', PERSON)),
      exported(q, COMPANY, chat(COMPANY, COMPANY)),
      exported(q, STRANGER, chat(COMPANY, PERSON)),
    ]);
    const { code, out } = await t.run(['--file', file]);
    expect(code).toBe(1);
    expect(out).toEqual([
      `${file}:1: refused: DM for account 777 to 777, not the tenant's 1`,
      `${file}:2: refused: DM sent by the tenant's own account`,
      `${file}:3: refused: event 1861000000000000003 does not match its original X event`,
      `${file}:4: refused: group ${STRANGER} is not the sender ${PERSON}`,
      `${file}:5: refused: body is not an inbound message (eventId: Required; createdTimestamp: Required; createdAt: Required; forUserId: Required; sender: Required; recipientId: Required; attachments: Required; raw: Required)`,
      `${file}:6: refused: XChat message for account 777, not the tenant's 1`,
      `${file}:7: refused: XChat message sent by the tenant's own account`,
      `${file}:8: refused: group ${STRANGER} is not the sender ${PERSON}`,
      '0 accepted, 8 refused',
      `done: 0 message(s) from ${file} sent to ${t.names.inboundQueue}`,
    ]);
    expect(out.join('\n')).not.toContain('evil.example');
    expect(await t.waiting('inbound')).toEqual([]);
  });

  it("requires the file's queue to be the target queue or its DLQ: an outbound export is not imported as DMs, another tenant's not at all", async () => {
    const t = await ticketsTenant();
    const dm = inboundQueueBody(modelDm(PERSON, '1861000000000000004', T0));
    const file = t.file([exported(t.names.outboundDlq, PERSON, dm), exported(resourceNames('other').inboundDlq, PERSON, dm)]);
    const { code, out } = await t.run(['--file', file]);
    expect(code).toBe(1);
    expect(out.slice(0, 3)).toEqual([
      `${file}:1: refused: exported from ${t.names.outboundDlq}, not from ${t.names.inboundQueue} or its DLQ`,
      `${file}:2: refused: exported from ${resourceNames('other').inboundDlq}, not from ${t.names.inboundQueue} or its DLQ`,
      '0 accepted, 2 refused',
    ]);
    expect(await t.waiting('inbound')).toEqual([]);
  });

  it('--dry-run checks and reports, sends nothing; without it the accepted lines are sent and the refused ones named', async () => {
    const t = await ticketsTenant();
    const q = t.names.inboundDlq;
    const dm = (id: string) => inboundQueueBody(modelDm(PERSON, id, T0));
    const file = t.file([exported(q, PERSON, dm('1861000000000000005')), 'not json', '', exported(q, PERSON, dm('1861000000000000006'))]);
    const dry = await t.run(['--file', file, '--dry-run']);
    expect(dry).toEqual({ code: 1, out: [`${file}:2: refused: not JSON`, '2 accepted, 1 refused', `dry run: nothing sent to ${t.names.inboundQueue}`] });
    expect(await t.waiting('inbound')).toEqual([]);

    const real = await t.run(['--file', file]);
    expect(real.code).toBe(1);
    expect(real.out).toContain('2 accepted, 1 refused');
    expect(real.out.at(-1)).toBe(`done: 2 message(s) from ${file} sent to ${t.names.inboundQueue}`);
    expect((await t.waiting('inbound')).map((b) => JSON.parse(b).eventId)).toEqual(['1861000000000000005', '1861000000000000006']);
  });

  it('accepts a reply in one of the tenant\'s conversations (outbound queue)', async () => {
    const t = await ticketsTenant();
    const file = t.file([exported(t.names.outboundDlq, PERSON, reply())]);
    const { code, out } = await t.run(['--queue', 'outbound', '--file', file]);
    expect({ code, summary: out[0] }).toEqual({ code: 0, summary: '1 accepted, 0 refused' });
    expect((await t.waiting('outbound')).map((b) => JSON.parse(b).sourceId)).toEqual(['occ-1']);
  });
});
