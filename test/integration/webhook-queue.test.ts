import { ReceiveMessageCommand, DeleteMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { createWebhookHandler } from '../../functions/webhook/handler';
import { sqsInboundQueue } from '../../functions/adapters/inbound-queue';
import { staticSecretSource } from '../../functions/adapters/secrets';
import { inboundMessageSchema } from '../../functions/core/x-events';
import { createTestQueuePair, testSqsClient } from '../support/aws';
import { testObservability } from '../support/observability';
import { refusingParking } from '../support/parking';
import { fixtureAccountId, fixtureBytes, fixtureClock, httpEvent, lambdaContext, testSecret, vectors } from '../support/x-fixtures';

/** The webhook handler against the fauxqs SQS emulator: what X posts is what lands in the FIFO queue. */
const sqs = testSqsClient();

async function drain(queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }),
    );
    if (!out.Messages?.length) return all;
    all.push(...out.Messages);
    for (const m of out.Messages) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
  }
}

function deliver(handler: ReturnType<typeof createWebhookHandler>, name: string) {
  return handler(
    httpEvent({ body: fixtureBytes(name), headers: { 'x-twitter-webhooks-signature': vectors.signatures[name] } }),
    lambdaContext,
  );
}

describe('webhook → inbound FIFO queue (fauxqs)', () => {
  let queueUrl: string;
  let handler: ReturnType<typeof createWebhookHandler>;

  beforeEach(async () => {
    ({ queueUrl } = await createTestQueuePair(sqs, 'inbound'));
    handler = createWebhookHandler({ parking: refusingParking, ...testObservability(), secrets: staticSecretSource(testSecret), queue: sqsInboundQueue(sqs, queueUrl), xAccountId: fixtureAccountId, clock: fixtureClock });
  });

  it('lands a batch delivered twice exactly once per DM, in per-sender order', async () => {
    expect((await deliver(handler, 'batch-two-users.json')).statusCode).toBe(200);
    expect((await deliver(handler, 'batch-two-users.json')).statusCode).toBe(200);

    const messages = await drain(queueUrl);
    expect(messages).toHaveLength(3);
    const bodies = messages.map((m) => inboundMessageSchema.parse(JSON.parse(m.Body!)));
    const bySender = (id: string) => bodies.filter((b) => b.sender.id === id).map((b) => b.text);
    expect(bySender('2900000000000000042')).toEqual(['primeira', 'segunda']);
    expect(bySender('3100000000000000077')).toEqual(['oi, preciso de ajuda']);
    expect(messages.map((m) => m.Attributes?.MessageGroupId)).toEqual(bodies.map((b) => b.sender.id));
    expect(messages.map((m) => m.Attributes?.MessageDeduplicationId)).toEqual(bodies.map((b) => b.eventId));
  });

  it.each(['dm-echo-own-message.json', 'typing-and-read.json', 'tweet-create-ignored.json'])('lands nothing for %s', async (name) => {
    expect((await deliver(handler, name)).statusCode).toBe(200);
    expect(await drain(queueUrl)).toEqual([]);
  });

  it('answers 5xx when the queue is unreachable, so that X delivers again', async () => {
    const unreachable = new SQSClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const down = createWebhookHandler({ parking: refusingParking, ...testObservability(), secrets: staticSecretSource(testSecret), queue: sqsInboundQueue(unreachable, queueUrl), xAccountId: fixtureAccountId, clock: fixtureClock });
    const res = await deliver(down, 'dm-received.json');
    expect(res.statusCode).toBeGreaterThanOrEqual(500);
  });
});
