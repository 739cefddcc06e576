import { SQSClient } from '@aws-sdk/client-sqs';
import { createWebhookHandler } from '../functions/webhook/handler';
import { sqsInboundQueue } from '../functions/adapters/inbound-queue';
import { staticSecretSource } from '../functions/adapters/secrets';
import { SIGNATURE_HEADER, signPayload, verifySignature } from '../functions/core/x-signature';
import { createTestQueuePair } from '../test/support/aws';
import { testObservability } from '../test/support/observability';
import { refusingParking } from '../test/support/parking';
import { fixtureAccountId, fixtureBytes, httpEvent, lambdaContext, testSecret } from '../test/support/x-fixtures';
import { summarise, type Summary } from './stats';

/**
 * The webhook handler's in-process work per delivery (verify + parse + normalise + the real
 * SendMessageBatch call to fauxqs on loopback), next to the floor of only verifying the HMAC and
 * parsing the JSON of the same bodies.
 */
export interface WebhookLatency {
  deliveries: number;
  handlerMs: Summary;
  floorMs: Summary;
}

function uniqueDeliveries(n: number): Buffer[] {
  const template = JSON.parse(fixtureBytes('dm-received.json').toString());
  return Array.from({ length: n }, (_, i) => {
    const body = structuredClone(template);
    body.direct_message_events[0].id = String(1862000000000000000n + BigInt(i));
    // Sent now: the webhook drops DMs older than the processed-record lifetime.
    body.direct_message_events[0].created_timestamp = String(Date.now());
    body.direct_message_events[0].message_create.sender_id = String(2900000000000000000n + BigInt(i % 200));
    return Buffer.from(JSON.stringify(body));
  });
}

export async function measureWebhookLatency(sqsEndpoint: string, deliveries = 1000): Promise<WebhookLatency> {
  const sqs = new SQSClient({ endpoint: sqsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const { queueUrl } = await createTestQueuePair(sqs, 'bench-inbound');
  const handler = createWebhookHandler({ parking: refusingParking, ...testObservability('bench'), secrets: staticSecretSource(testSecret), queue: sqsInboundQueue(sqs, queueUrl), xAccountId: fixtureAccountId });
  const bodies = uniqueDeliveries(deliveries);
  const events = bodies.map((body) =>
    httpEvent({ body, headers: { [SIGNATURE_HEADER]: signPayload(testSecret.consumerSecret, body) } }),
  );

  // Warm-up: first calls pay for lazy initialisation (SDK, connection), which cold-init measures separately.
  for (const event of events.slice(0, 20)) await handler(event, lambdaContext);

  const handlerMs: number[] = [];
  for (const event of events) {
    const t0 = performance.now();
    const res = await handler(event, lambdaContext);
    handlerMs.push(performance.now() - t0);
    if (res.statusCode !== 200) throw new Error(`webhook answered ${res.statusCode} during the benchmark`);
  }

  const floorMs: number[] = [];
  for (let i = 0; i < bodies.length; i++) {
    const header = events[i].headers[SIGNATURE_HEADER];
    const t0 = performance.now();
    if (!verifySignature(testSecret.consumerSecret, bodies[i], header)) throw new Error('signature mismatch');
    JSON.parse(bodies[i].toString('utf8'));
    floorMs.push(performance.now() - t0);
  }
  sqs.destroy();
  return { deliveries, handlerMs: summarise(handlerMs), floorMs: summarise(floorMs) };
}
