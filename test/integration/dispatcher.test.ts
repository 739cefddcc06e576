import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { countMessages } from '../../cli/dlq-commands';
import { dynamoConversationStore } from '../../functions/adapters/conversation-store';
import { createRelayClient } from '../../functions/adapters/fourbiz/relay';
import { FAILURE_REASON_ATTRIBUTE, sqsQueueControl } from '../../functions/adapters/queue-control';
import { processedKey } from '../../functions/core/processed-key';
import { sqsInboundQueue } from '../../functions/adapters/inbound-queue';
import { staticSecretSource } from '../../functions/adapters/secrets';
import { accountActivitySchema, normaliseDelivery } from '../../functions/core/x-events';
import { signPayload, verifySignature } from '../../functions/core/x-signature';
import { createDispatcherHandler } from '../../functions/dispatcher/handler';
import { createObservability } from '../../functions/observability';
import { createWebhookHandler } from '../../functions/webhook/handler';
import { refusingParking } from '../support/parking';
import { startSqsEventSource, type SqsEventSource } from '../../local/sqs-event-source';
import { startOmnichannelSimulator, type OmnichannelSimulator } from '../../simulators/fourbiz-omnichannel';
import { createTestQueuePair, createTestTable, testDynamoClient, testSqsClient } from '../support/aws';
import type { FifoQueuePair } from '../../local/resources';
import { fixtureAccountId, fixtureBytes, fixtureClock, httpEvent, lambdaContext, testSecret, vectors } from '../support/x-fixtures';
import type { ConversationStore } from '../../functions/core/ports';
import { until } from '../support/until';
import { createOutageCircuit, LOCAL_CIRCUIT_TIMING } from '../../functions/core/outage-circuit';
import { dynamoCircuitStore } from '../../functions/adapters/outage-circuit-store';

const COMPANY = '1400000000000000001';
const secrets = staticSecretSource(testSecret);

/** An Account Activity delivery of one DM, as X would POST it. */
function dmPayload(senderId: string, eventId: string, createdMs: number, text = `mensagem ${eventId}`): Buffer {
  return Buffer.from(
    JSON.stringify({
      for_user_id: COMPANY,
      direct_message_events: [
        {
          type: 'message_create',
          id: eventId,
          created_timestamp: String(createdMs),
          message_create: { target: { recipient_id: COMPANY }, sender_id: senderId, message_data: { text, entities: { urls: [] } } },
        },
      ],
      users: {
        [senderId]: { id: senderId, name: `User ${senderId}`, screen_name: `user_${senderId}` },
        [COMPANY]: { id: COMPANY, name: 'Empresa Suporte', screen_name: 'empresa_suporte' },
      },
    }),
  );
}

interface Bridge {
  sim: OmnichannelSimulator;
  queues: FifoQueuePair;
  table: string;
  store: ConversationStore;
  source: SqsEventSource;
  /** X POSTs a signed delivery to the webhook. */
  post(body: Buffer): Promise<APIGatewayProxyStructuredResultV2>;
  stop(): Promise<void>;
}

describe('dispatcher: inbound queue → 4biz Omnichannel callback (relay mode)', () => {
  const sqs: SQSClient = testSqsClient();
  const dynamo = testDynamoClient();
  const doc = DynamoDBDocumentClient.from(dynamo);
  const running: Bridge[] = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((b) => b.stop()));
  });
  afterAll(() => {
    sqs.destroy();
    dynamo.destroy();
  });

  async function bridge(opts: { idleMinutes?: number; seed?: number; concurrency?: number } = {}): Promise<Bridge> {
    const [queues, table, sim] = await Promise.all([
      createTestQueuePair(sqs, 'dispatch', { visibilityTimeoutSeconds: 2 }),
      createTestTable(dynamo),
      startOmnichannelSimulator({ consumerSecret: testSecret.consumerSecret, seed: opts.seed }),
    ]);
    const store = dynamoConversationStore(doc, table);
    const dispatcher = createDispatcherHandler({
      ...createObservability('test'),
      store,
      // The circuit in the table, as deployed: both event-source workers share it.
      circuit: createOutageCircuit(dynamoCircuitStore(doc, table), { maxWaitMs: 96 * 3600_000, timing: LOCAL_CIRCUIT_TIMING }),
      fourbiz: createRelayClient({ mode: 'relay', callbackUrl: sim.url, timeoutMs: 1_000 }, secrets),
      queue: sqsQueueControl(sqs, queues),
      idleMinutes: opts.idleMinutes ?? 60,
      // Tiny back-off so retries happen within the test.
      backoff: { baseSeconds: 0, maxSeconds: 1 },
    });
    const webhook = createWebhookHandler({ parking: refusingParking, ...createObservability('test'), secrets, queue: sqsInboundQueue(sqs, queues.queueUrl), xAccountId: fixtureAccountId, clock: fixtureClock });
    const source = startSqsEventSource({
      client: sqs,
      queueUrl: queues.queueUrl,
      handler: dispatcher,
      batchSize: 10,
      waitTimeSeconds: 1,
      concurrency: opts.concurrency ?? 2,
      onError: () => undefined,
    });
    source.start();
    const b: Bridge = {
      sim,
      queues,
      table,
      store,
      source,
      post: async (body) =>
        (await webhook(
          httpEvent({ body, headers: { 'x-twitter-webhooks-signature': signPayload(testSecret.consumerSecret, body) } }),
          lambdaContext,
        )) as APIGatewayProxyStructuredResultV2,
      stop: async () => {
        await source.stop();
        await sim.stop();
      },
    };
    running.push(b);
    return b;
  }

  const empty = async (url: string) => {
    const c = await countMessages(sqs, url);
    return c.visible + c.inFlight === 0;
  };

  it('relays dm-received.json to the callback URL: one signed payload with the event, its user and for_user_id', async () => {
    const b = await bridge();
    const res = await b.post(fixtureBytes('dm-received.json'));
    expect(res.statusCode).toBe(200);
    await until('the delivery', () => b.sim.deliveries.length === 1);

    const [delivery] = b.sim.deliveries;
    expect(verifySignature(vectors.consumerSecret, delivery.raw, delivery.signature)).toBe(true);
    const fixture = JSON.parse(fixtureBytes('dm-received.json').toString('utf8'));
    expect(delivery.body.for_user_id).toBe(fixture.for_user_id);
    expect(delivery.body.direct_message_events).toEqual(fixture.direct_message_events);
    expect(delivery.body.users?.['2900000000000000042']).toEqual(fixture.users['2900000000000000042']);

    await until('the conversation update', async () => (await b.store.get('2900000000000000042'))?.messagesIn === 1);
    expect(await b.store.get('2900000000000000042')).toMatchObject({
      status: 'OPEN',
      handle: 'maria_souza',
      lastDeliveredEventId: '1861000000000000101',
    });
    expect(await b.store.isProcessed(processedKey.inbound('1861000000000000101'))).toBe(true);
  });

  it('acknowledges an event delivered again after SQS’s dedup window without a second delivery', async () => {
    const b = await bridge();
    const body = dmPayload('501', '77001', 1_732_500_000_000);
    await b.post(body);
    await until('the first delivery', async () => (await b.store.get('501'))?.messagesIn === 1);
    // X redelivers much later: SQS no longer deduplicates, the processed-event record must.
    const [message] = normaliseDelivery(accountActivitySchema.parse(JSON.parse(body.toString('utf8')))).messages;
    await sqs.send(
      new SendMessageCommand({ QueueUrl: b.queues.queueUrl, MessageBody: JSON.stringify(message), MessageGroupId: '501', MessageDeduplicationId: 'later-copy' }),
    );
    await until('the copy to be consumed', () => empty(b.queues.queueUrl));
    expect(b.sim.deliveries.map((d) => d.eventId)).toEqual(['77001']);
    expect((await b.store.get('501'))?.messagesIn).toBe(1);
  });

  it('delivers 500 DMs from 50 senders, each sent twice by X, at least once, in order per sender and de-duplicable by Idempotency-Key while 4biz fails 30% of calls', async () => {
    const b = await bridge({ seed: 7, concurrency: 4 });
    b.sim.failFraction(0.3, 500);
    const senders = Array.from({ length: 50 }, (_, s) => String(3_000 + s));
    const expected = new Map(senders.map((s) => [s, Array.from({ length: 10 }, (_, k) => `${s}000${k}`)]));
    const t0 = 1_732_500_000_000;
    await Promise.all(
      senders.map(async (s) => {
        for (const [k, id] of expected.get(s)!.entries()) {
          const body = dmPayload(s, id, t0 + k * 1_000);
          expect((await b.post(body)).statusCode).toBe(200);
          expect((await b.post(body)).statusCode).toBe(200);
        }
      }),
    );
    await until('500 deliveries', () => b.sim.deliveries.length >= 500, 45_000);
    await until('the queue to drain', () => empty(b.queues.queueUrl));

    // Into 4biz the promise is at least once: a call that timed out on a loaded machine may have
    // been applied, and is sent again. Every repeat carries the DM's Idempotency-Key, so what 4biz
    // keeps after dropping repeated keys is each DM once, in order per sender; X's own duplicates
    // (each DM was posted twice) never get that far.
    for (const d of b.sim.deliveries) expect(d.idempotencyKey).toBe(d.eventId);
    const kept = b.sim.deliveries.filter((d, i, all) => all.findIndex((e) => e.idempotencyKey === d.idempotencyKey) === i);
    expect(kept).toHaveLength(500);
    for (const s of senders) {
      expect(kept.filter((d) => d.senderId === s).map((d) => d.eventId)).toEqual(expected.get(s));
    }
    // X's 500 copies are absorbed before 4biz: only the odd call answered after our timeout repeats.
    expect(b.sim.deliveries.length - kept.length).toBeLessThan(50);
    expect(b.sim.calls.filter((c) => c.status === 500).length).toBeGreaterThan(100);
    expect(await empty(b.queues.dlqUrl)).toBe(true);
    expect(await b.store.get('3000')).toMatchObject({ messagesIn: 10, lastDeliveredEventId: '30000009', status: 'OPEN' });
  }, 60_000);

  it('loses nothing while 4biz is down: the outage circuit (in the table) opens, DMs wait without spending attempts, nothing reaches the DLQ, all delivered in order once 4biz is back', async () => {
    const b = await bridge();
    await b.sim.stop();
    const t0 = 1_732_500_000_000;
    const sent = ['701', '702', '703'].flatMap((s) => [0, 1, 2].map((k) => ({ s, id: `${s}999${k}`, at: t0 + k * 1000 })));
    for (const m of sent) expect((await b.post(dmPayload(m.s, m.id, m.at))).statusCode).toBe(200);

    // Failures of two people open the circuit; every DM then waits (attempts not spent).
    const circuit = dynamoCircuitStore(doc, b.table);
    await until('the circuit open', async () => (await circuit.read()).openedAt !== undefined, 20_000);
    await new Promise((r) => setTimeout(r, 6_000));
    expect(await empty(b.queues.dlqUrl)).toBe(true);

    await b.sim.start();
    await until('all nine delivered', () => b.sim.deliveries.length === 9, 30_000);
    for (const s of ['701', '702', '703']) {
      expect(b.sim.deliveries.filter((d) => d.senderId === s).map((d) => d.eventId)).toEqual([`${s}9990`, `${s}9991`, `${s}9992`]);
    }
    expect(await empty(b.queues.dlqUrl)).toBe(true);
    expect((await circuit.read()).openedAt).toBeUndefined();
  }, 60_000);

  it('sends a DM that 4biz answers 400 to the DLQ at once, with the reason, and goes on with the others', async () => {
    const b = await bridge();
    b.sim.failEvents((id) => (id === '8010001' ? 400 : undefined));
    const t0 = 1_732_500_000_000;
    for (const [s, k] of [['801', 0], ['801', 1], ['801', 2], ['802', 0]] as const) {
      await b.post(dmPayload(s, `${s}000${k}`, t0 + k * 1000));
    }
    await until('the three others delivered', () => b.sim.deliveries.length === 3);
    expect(b.sim.deliveries.map((d) => d.eventId).sort()).toEqual(['8010000', '8010002', '8020000']);
    expect(b.sim.calls.filter((c) => c.eventId === '8010001')).toEqual([{ status: 400, eventId: '8010001' }]);

    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: b.queues.dlqUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
    );
    expect(Messages).toHaveLength(1);
    expect(JSON.parse(Messages![0].Body!).eventId).toBe('8010001');
    expect(Messages![0].Attributes?.MessageGroupId).toBe('801');
    expect(Messages![0].MessageAttributes?.[FAILURE_REASON_ATTRIBUTE]?.StringValue).toMatch(/400/);
  });

  it('moves a queue message that is not an inbound message to the DLQ instead of retrying or dropping it', async () => {
    const b = await bridge();
    await sqs.send(new SendMessageCommand({ QueueUrl: b.queues.queueUrl, MessageBody: '{"hello":"world"}', MessageGroupId: 'x', MessageDeduplicationId: 'bad-1' }));
    await until('it reaches the DLQ', async () => (await countMessages(sqs, b.queues.dlqUrl)).visible === 1);
    expect(await empty(b.queues.queueUrl)).toBe(true);
    expect(b.sim.calls).toHaveLength(0);
  });

  it('closes a conversation idle longer than the timeout; the next DM opens a new one', async () => {
    const b = await bridge({ idleMinutes: 30 });
    const t0 = 1_732_500_000_000;
    await b.post(dmPayload('901', '90011', t0));
    await until('first delivered', async () => (await b.store.get('901'))?.messagesIn === 1);
    const first = (await b.store.get('901'))!;

    await b.post(dmPayload('901', '90012', t0 + 10 * 60_000));
    await until('second delivered', async () => (await b.store.get('901'))?.messagesIn === 2);
    expect((await b.store.get('901'))!.conversationId).toBe(first.conversationId);

    await b.post(dmPayload('901', '90013', t0 + 41 * 60_000));
    await until('third delivered', () => b.sim.deliveries.length === 3);
    await until('the new conversation', async () => (await b.store.get('901'))?.lastDeliveredEventId === '90013');
    const next = (await b.store.get('901'))!;
    expect(next.conversationId).not.toBe(first.conversationId);
    expect(next).toMatchObject({ status: 'OPEN', messagesIn: 1, openedAt: new Date(t0 + 41 * 60_000).toISOString() });
    expect((await b.store.listOpen()).map((c) => c.conversationId)).toEqual([next.conversationId]);
  });
});
