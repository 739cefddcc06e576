import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { countMessages } from '../../cli/dlq-commands';
import { crcSelfCheck } from '../../functions/adapters/crc-probe';
import { dynamoConversationStore } from '../../functions/adapters/conversation-store';
import { createRelayClient } from '../../functions/adapters/fourbiz/relay';
import { sqsInboundQueue } from '../../functions/adapters/inbound-queue';
import { sqsQueueControl } from '../../functions/adapters/queue-control';
import { staticSecretSource } from '../../functions/adapters/secrets';
import { dynamoWebhookHealthStore } from '../../functions/adapters/webhook-health-store';
import { twitterWebhookApi } from '../../functions/adapters/x-webhooks';
import { signPayload, verifySignature } from '../../functions/core/x-signature';
import { createCrcHandler } from '../../functions/crc/handler';
import { createDispatcherHandler } from '../../functions/dispatcher/handler';
import { createWebhookHealthHandler } from '../../functions/webhook-health/handler';
import { createWebhookHandler } from '../../functions/webhook/handler';
import { startHttpGateway, type HttpGateway } from '../../local/http-gateway';
import { startSqsEventSource, type SqsEventSource } from '../../local/sqs-event-source';
import { startOmnichannelSimulator, type OmnichannelSimulator } from '../../simulators/fourbiz-omnichannel';
import { simulatorCredentials, startXApiSimulator, type XApiSimulator } from '../../simulators/x';
import { createTestQueuePair, createTestTable, testDynamoClient, testSqsClient } from '../support/aws';
import type { FifoQueuePair } from '../../local/resources';
import { testObservability } from '../support/observability';
import { refusingParking } from '../support/parking';
import { fixtureBytes, fixtureClock, lambdaContext, vectors } from '../support/x-fixtures';
import { until } from '../support/until';
import { memoryCircuit } from '../support/memory-circuit';

/**
 * X Activity API deliveries and webhook health end to end: the X simulator posts signed deliveries
 * to the real webhook and CRC handlers (behind the local gateway, reached at the tenant's https URL),
 * the queue and dispatcher relay them to the 4biz Omnichannel simulator.
 */
const COMPANY = '1400000000000000001';
const WEBHOOK_URL = 'https://bridge.localhost/webhooks/twitter';
const keys = { ...simulatorCredentials, consumerSecret: vectors.consumerSecret };
const secrets = staticSecretSource(keys);

describe('X Activity API deliveries and webhook health, end to end', () => {
  const sqs: SQSClient = testSqsClient();
  const dynamo = testDynamoClient();
  const doc = DynamoDBDocumentClient.from(dynamo);
  let x: XApiSimulator;
  let gateway: HttpGateway;
  let omnichannel: OmnichannelSimulator;
  let queues: FifoQueuePair;
  let table: string;
  let source: SqsEventSource;
  /** The bridge's CRC answer is down (a broken deploy): X's re-validation fails. */
  let crcDown = false;
  const local = (url: string) => url.replace('https://bridge.localhost', gateway.url);
  /** X's clock and webhook health's: X replays a window only once it is 31 minutes old. */
  const clock = { now: Date.now() };

  beforeAll(async () => {
    [queues, table, omnichannel] = await Promise.all([
      createTestQueuePair(sqs, 'xaa', { visibilityTimeoutSeconds: 2 }),
      createTestTable(dynamo),
      startOmnichannelSimulator({ consumerSecret: keys.consumerSecret }),
    ]);
    x = await startXApiSimulator({ credentials: keys, accountId: COMPANY, resolveWebhookUrl: (url) => local(url), now: () => clock.now });
    const crc = createCrcHandler({ ...testObservability(), secrets });
    const webhook = createWebhookHandler({ parking: refusingParking, ...testObservability(), secrets, queue: sqsInboundQueue(sqs, queues.queueUrl), xAccountId: COMPANY, clock: fixtureClock });
    gateway = await startHttpGateway({
      routes: [
        { method: 'GET', path: '/webhooks/twitter', handler: async (event, context) => (crcDown ? { statusCode: 503 } : crc(event, context)) },
        { method: 'POST', path: '/webhooks/twitter', handler: webhook },
      ],
    });
    const dispatcher = createDispatcherHandler({
      circuit: memoryCircuit(),
      ...testObservability(),
      store: dynamoConversationStore(doc, table),
      fourbiz: createRelayClient({ mode: 'relay', callbackUrl: omnichannel.url, timeoutMs: 1_000 }, secrets),
      queue: sqsQueueControl(sqs, queues),
      idleMinutes: 60,
      backoff: { baseSeconds: 0, maxSeconds: 1 },
    });
    source = startSqsEventSource({ client: sqs, queueUrl: queues.queueUrl, handler: dispatcher, batchSize: 10, waitTimeSeconds: 1, concurrency: 2, onError: () => undefined });
    source.start();
  });

  afterAll(async () => {
    await source.stop();
    await Promise.all([x.close(), gateway.close(), omnichannel.stop()]);
    sqs.destroy();
    dynamo.destroy();
  });

  const queueEmpty = async () => {
    const c = await countMessages(sqs, queues.queueUrl);
    return c.visible + c.inFlight === 0;
  };
  const delivered = (eventId: string) => omnichannel.deliveries.filter((d) => d.eventId === eventId).length;
  const post = async (body: Buffer, signature = signPayload(keys.consumerSecret, body)) => {
    const res = await fetch(`${gateway.url}/webhooks/twitter`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': signature }, body });
    return res.status;
  };

  it('relays an XAA dm.received as one AAA-shaped, signed payload; the same DM by AAA too reaches 4biz once; dm.sent, chat.received, oauth.revoke reach nobody', async () => {
    const xaa = JSON.parse(fixtureBytes('xaa-dm-received.json').toString('utf8'));
    const event = xaa.data.payload.direct_message_events[0];
    const aaa = Buffer.from(JSON.stringify({ for_user_id: COMPANY, direct_message_events: [event], users: { [event.message_create.sender_id]: { id: event.message_create.sender_id, name: 'João Pereira', screen_name: 'joao_pereira' } } }));

    for (const name of ['xaa-dm-received.json', 'xaa-dm-sent.json', 'xaa-chat-received.json', 'xaa-oauth-revoke.json']) {
      expect(await post(fixtureBytes(name), vectors.signatures[name])).toBe(200);
    }
    expect(await post(aaa)).toBe(200);
    // X retries: the XAA delivery again.
    expect(await post(fixtureBytes('xaa-dm-received.json'), vectors.signatures['xaa-dm-received.json'])).toBe(200);

    await until('the DM at 4biz', () => delivered(event.id) === 1);
    await until('the inbound queue drained', queueEmpty);
    expect(omnichannel.deliveries).toHaveLength(1);
    const [d] = omnichannel.deliveries;
    expect(verifySignature(keys.consumerSecret, d!.raw, d!.signature)).toBe(true);
    expect(d!.body).toEqual({
      for_user_id: COMPANY,
      direct_message_events: [event],
      users: {
        '2900000000000000077': expect.objectContaining({ id: '2900000000000000077', id_str: '2900000000000000077', screen_name: 'joao_pereira', name: 'João Pereira', profile_image_url_https: 'https://pbs.twimg.com/profile_images/3/c_normal.jpg' }),
        [COMPANY]: expect.objectContaining({ screen_name: 'empresa_suporte' }),
      },
    });
  });

  it('webhook health: invalid → re-validation fails (WebhookInvalid) → re-validated → replay of the gap once X allows it → the missed DM reaches 4biz once', async () => {
    const api = twitterWebhookApi(keys, x.url);
    const hook = await api.createWebhook(WEBHOOK_URL);
    await api.createActivitySubscription({ eventType: 'dm.received', userId: COMPANY, webhookId: hook.id, tag: '4biz-twitter-dm:test' });
    const health = () => {
      const observability = testObservability();
      const handler = createWebhookHealthHandler({
        ...observability,
        secrets,
        xApi: (k) => twitterWebhookApi(k, x.url),
        store: dynamoWebhookHealthStore(doc, table),
        webhookUrl: WEBHOOK_URL,
        probe: (url, secret) => crcSelfCheck(local(url), secret),
        clock: () => clock.now,
      });
      return { run: () => handler({} as never, lambdaContext), published: observability.published };
    };

    expect(await health().run()).toEqual({ status: 'healthy' });
    const before = await x.receiveDm({ senderId: '2900000000000000051', username: 'ana_souza', name: 'Ana Souza', text: 'antes da queda' });
    expect(before.deliveries.map((d) => d.status)).toEqual([200]);
    await until('the first DM at 4biz', () => delivered(before.eventId) === 1);

    // X marks the webhook invalid; DMs sent meanwhile are not delivered.
    x.setWebhookValid(hook.id, false);
    crcDown = true;
    const missed = await x.receiveDm({ senderId: '2900000000000000052', username: 'bruno_lima', name: 'Bruno Lima', text: 'durante a queda' });
    expect(missed.deliveries.map((d) => d.status)).toEqual([undefined]);

    const stillDown = health();
    expect(await stillDown.run()).toEqual({ status: 'invalid' });
    expect(stillDown.published()).toEqual({ WebhookInvalid: 1 });
    expect(x.replayJobs).toEqual([]);

    crcDown = false;
    clock.now += 15 * 60_000;
    const back = health();
    expect(await back.run()).toEqual({ status: 'healthy' });
    // The gap is younger than X's 31 minutes: held for a later run.
    expect(back.published()).toEqual({ WebhookRevalidated: 1 });
    expect(x.webhooks[0]!.valid).toBe(true);
    expect(x.replayJobs).toEqual([]);

    clock.now += 30 * 60_000;
    const later = health();
    expect(await later.run()).toEqual({ status: 'healthy' });
    expect(later.published()).toEqual({ WebhookReplayStarted: 1 });
    const [job] = x.replayJobs;
    await job!.done;
    // The replay re-posts both DMs of the window (the first was already delivered) and the job status.
    expect(x.deliveries.filter((d) => d.replayJobId === job!.jobId).map((d) => d.status)).toEqual([200, 200, 200]);

    await until('the missed DM at 4biz', () => delivered(missed.eventId) === 1);
    await until('the inbound queue drained', queueEmpty);
    expect(delivered(before.eventId)).toBe(1);
    expect(delivered(missed.eventId)).toBe(1);
    const d = omnichannel.deliveries.find((m) => m.eventId === missed.eventId)!;
    expect(d.body.users?.['2900000000000000052']).toMatchObject({ screen_name: 'bruno_lima', name: 'Bruno Lima' });

    // The next run finds nothing to replay.
    expect(await health().run()).toEqual({ status: 'healthy' });
    expect(x.replayJobs).toHaveLength(1);
  });
});
