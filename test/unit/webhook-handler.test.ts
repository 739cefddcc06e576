import fc from 'fast-check';
import { testObservability } from '../support/observability';
import { memoryParking, refusingParking } from '../support/parking';
import { createWebhookHandler } from '../../functions/webhook/handler';
import { createCrcHandler } from '../../functions/crc/handler';
import { staticSecretSource, type SecretSource } from '../../functions/adapters/secrets';
import type { InboundParking, InboundQueue } from '../../functions/core/ports';
import type { InboundMessage } from '../../functions/core/x-events';
import { signPayload } from '../../functions/core/x-signature';
import { PROCESSED_EVENT_LIFETIME_SECONDS } from '../../functions/core/processed-key';
import { aaaFixtureNames, fixtureAccountId, fixtureBytes, fixtureClock, httpEvent, lambdaContext, testSecret, vectors } from '../support/x-fixtures';

function recordingQueue(fail = false) {
  const sent: InboundMessage[] = [];
  const queue: InboundQueue = {
    async send(messages) {
      if (fail) throw new Error('queue down');
      sent.push(...messages);
    },
  };
  return { queue, sent };
}

function webhook(queue: InboundQueue, secrets: SecretSource = staticSecretSource(testSecret), observability = testObservability(), parking: InboundParking = refusingParking) {
  return createWebhookHandler({ parking, ...observability, secrets, queue, xAccountId: fixtureAccountId, clock: fixtureClock });
}

const signed = (body: Buffer, base64 = false) =>
  httpEvent({ body, base64, headers: { 'x-twitter-webhooks-signature': signPayload(vectors.consumerSecret, body) } });

describe('webhook handler', () => {
  it.each(aaaFixtureNames)('accepts %s signed by X', async (name) => {
    const { queue } = recordingQueue();
    const body = fixtureBytes(name);
    const res = await webhook(queue)(
      httpEvent({ body, headers: { 'x-twitter-webhooks-signature': vectors.signatures[name] } }),
      lambdaContext,
    );
    expect(res.statusCode).toBe(200);
  });

  it('verifies base64-encoded bodies from API Gateway over their decoded bytes', async () => {
    const { queue, sent } = recordingQueue();
    const res = await webhook(queue)(signed(fixtureBytes('dm-received.json'), true), lambdaContext);
    expect(res.statusCode).toBe(200);
    expect(sent.map((m) => m.eventId)).toEqual(['1861000000000000101']);
  });

  it('queues only the messages of people, never echoes, typing or tweets', async () => {
    const { queue, sent } = recordingQueue();
    const observability = testObservability();
    const handler = webhook(queue, staticSecretSource(testSecret), observability);
    for (const name of ['dm-echo-own-message.json', 'typing-and-read.json', 'tweet-create-ignored.json', 'batch-two-users.json']) {
      await handler(signed(fixtureBytes(name)), lambdaContext);
    }
    expect(sent.map((m) => m.eventId)).toEqual(['1861000000000000301', '1861000000000000302', '1861000000000000303']);
    expect(observability.published()).toEqual({ EchoDropped: 1, EventIgnored: 3, DmReceived: 3 });
  });

  it('answers every X Activity API fixture 200, queues only the person’s DM and counts the rest', async () => {
    const { queue, sent } = recordingQueue();
    const observability = testObservability();
    const handler = webhook(queue, staticSecretSource(testSecret), observability);
    for (const name of ['xaa-dm-received.json', 'xaa-dm-sent.json', 'xaa-chat-received.json', 'xaa-oauth-revoke.json']) {
      const res = await handler(httpEvent({ body: fixtureBytes(name), headers: { 'x-twitter-webhooks-signature': vectors.signatures[name] } }), lambdaContext);
      expect(res.statusCode).toBe(200);
    }
    expect(sent.map((m) => [m.eventId, m.sender.handle])).toEqual([['1861000000000000401', 'joao_pereira']]);
    expect(observability.published()).toEqual({ DmReceived: 1, EchoDropped: 1, EncryptedDmReceived: 1, XAccessRevoked: 1 });
  });

  it('answers an X Activity API DM for another account 200, forwards nothing and counts it', async () => {
    const { queue, sent } = recordingQueue();
    const observability = testObservability();
    const res = await createWebhookHandler({ parking: refusingParking, ...observability, secrets: staticSecretSource(testSecret), queue, xAccountId: '1500000000000000009', clock: fixtureClock })(
      httpEvent({ body: fixtureBytes('xaa-dm-received.json'), headers: { 'x-twitter-webhooks-signature': vectors.signatures['xaa-dm-received.json'] } }),
      lambdaContext,
    );
    expect(res.statusCode).toBe(200);
    expect(sent).toEqual([]);
    expect(observability.published()).toEqual({ ForeignAccountDropped: 1 });
  });

  const dm = fixtureBytes('dm-received.json');
  const flipped = Buffer.from(dm);
  flipped[10] ^= 0x20;
  const big = Buffer.alloc(1024 * 1024, 0x20);
  const huge = Buffer.alloc(10 * 1024 * 1024 + 1, 0x20);
  const cases: [string, ReturnType<typeof httpEvent>, number][] = [
    ['a flipped byte', httpEvent({ body: flipped, headers: { 'x-twitter-webhooks-signature': vectors.signatures['dm-received.json'] } }), 401],
    ['a wrong secret', httpEvent({ body: dm, headers: { 'x-twitter-webhooks-signature': signPayload('wrong', dm) } }), 401],
    ['a missing header', httpEvent({ body: dm }), 401],
    ['an empty body', signed(Buffer.alloc(0)), 400],
    ['no body at all', httpEvent({ headers: { 'x-twitter-webhooks-signature': signPayload(vectors.consumerSecret, '') } }), 400],
    ['invalid JSON', signed(Buffer.from('{"for_user_id": ')), 400],
    ['JSON of the wrong shape', signed(Buffer.from('{"direct_message_events": 3}')), 400],
    ['a signed 1 MB body of spaces (no DM in it)', signed(big), 400],
    ['a body over API Gateway\'s 10 MB', signed(huge), 413],
  ];
  it.each(cases)('answers %s with a clear 4xx and queues nothing', async (_name, event, status) => {
    const { queue, sent } = recordingQueue();
    const res = await webhook(queue)(event, lambdaContext);
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(res.body as string).error).toEqual(expect.any(String));
    expect(sent).toEqual([]);
  });

  it('counts a refused signed delivery as WebhookRejected (it alarms: X does not retry a 4xx), an unsigned one as WebhookUnauthenticated', async () => {
    const { queue } = recordingQueue();
    const observability = testObservability();
    const handler = webhook(queue, staticSecretSource(testSecret), observability);
    expect((await handler(signed(Buffer.from('{"for_user_id": ')), lambdaContext)).statusCode).toBe(400);
    expect((await handler(httpEvent({ body: dm, headers: { 'x-twitter-webhooks-signature': signPayload('wrong', dm) } }), lambdaContext)).statusCode).toBe(401);
    expect((await handler(httpEvent({ body: dm }), lambdaContext)).statusCode).toBe(401);
    expect(observability.published()).toEqual({ WebhookRejected: 1, WebhookUnauthenticated: 2 });
  });

  it('acknowledges a DM older than the processed-record lifetime (a captured delivery sent again after 90 days), counts it and forwards only the fresh one beside it', async () => {
    const { queue, sent } = recordingQueue();
    const observability = testObservability();
    const handler = webhook(queue, staticSecretSource(testSecret), observability);
    const body = JSON.parse(fixtureBytes('batch-two-users.json').toString('utf8'));
    const [old, ...fresh] = body.direct_message_events as { id: string; created_timestamp: string }[];
    old!.created_timestamp = String(fixtureClock() - 90 * 24 * 3600_000);
    for (const e of fresh) e.created_timestamp = String(fixtureClock() - 60_000);
    const res = await handler(signed(Buffer.from(JSON.stringify(body))), lambdaContext);
    expect(res.statusCode).toBe(200);
    expect(sent.map((m) => m.eventId)).toEqual(fresh.map((e) => e.id));
    expect(observability.published()).toEqual({ OldDmDropped: 1, DmReceived: fresh.length });

    // Just inside the lifetime (7 days) it is still X's, and forwarded.
    old!.created_timestamp = String(fixtureClock() - PROCESSED_EVENT_LIFETIME_SECONDS * 1000 + 60_000);
    old!.id = '1861000000000000399';
    expect((await handler(signed(Buffer.from(JSON.stringify({ ...body, direct_message_events: [old] }))), lambdaContext)).statusCode).toBe(200);
    expect(sent.map((m) => m.eventId)).toContain('1861000000000000399');
  });

  it('answers 503 when neither the queue nor the table accepts the messages, so that X retries', async () => {
    const { queue } = recordingQueue(true);
    const observability = testObservability();
    const res = await webhook(queue, staticSecretSource(testSecret), observability)(signed(fixtureBytes('dm-received.json')), lambdaContext);
    expect(res.statusCode).toBe(503);
    expect(observability.published()).toEqual({ EnqueueFailed: 1 });
  });

  it('parks the DMs the queue refuses, once, and answers 200: X\'s retry of the delivery parks nothing twice', async () => {
    const { queue, sent } = recordingQueue(true);
    const { parking, parked } = memoryParking();
    const observability = testObservability();
    const handler = webhook(queue, staticSecretSource(testSecret), observability, parking);
    for (let n = 0; n < 2; n++) {
      const res = await handler(signed(fixtureBytes('batch-two-users.json')), lambdaContext);
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body!)).toEqual({ accepted: 3, parked: 3 });
    }
    expect(sent).toEqual([]);
    expect([...parked.keys()]).toEqual(['1861000000000000301', '1861000000000000302', '1861000000000000303']);
    expect(observability.published()).toEqual({ EnqueueFailed: 6, InboundParked: 3 });
  });

  it('answers 503 when the secret cannot be read', async () => {
    const { queue } = recordingQueue();
    const secrets: SecretSource = { get: () => Promise.reject(new Error('denied')), invalidate: () => undefined };
    const res = await webhook(queue, secrets)(signed(fixtureBytes('dm-received.json')), lambdaContext);
    expect(res.statusCode).toBe(503);
  });

  it('never throws and never answers 5xx on arbitrary bodies, signed or not', async () => {
    const { queue } = recordingQueue();
    const handler = webhook(queue);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.uint8Array({ maxLength: 2048 }), fc.json().map((s) => new TextEncoder().encode(s)), fc.anything().map((v) => new TextEncoder().encode(JSON.stringify(v) ?? ''))),
        fc.boolean(),
        fc.boolean(),
        async (bytes, sign, base64) => {
          const body = Buffer.from(bytes);
          const headers: Record<string, string> = sign ? { 'x-twitter-webhooks-signature': signPayload(vectors.consumerSecret, body) } : {};
          const res = await handler(httpEvent({ body, headers, base64 }), lambdaContext);
          expect(res.statusCode).toBeGreaterThanOrEqual(200);
          expect(res.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary Account Activity-like objects', async () => {
    const { queue } = recordingQueue();
    const handler = webhook(queue);
    const event = fc.record({
      type: fc.oneof(fc.constant('message_create'), fc.string()),
      id: fc.oneof(fc.stringMatching(/^\d{1,20}$/), fc.string()),
      created_timestamp: fc.oneof(fc.stringMatching(/^\d{1,17}$/), fc.string()),
      message_create: fc.option(
        fc.record({
          sender_id: fc.stringMatching(/^\d{1,5}$/),
          target: fc.record({ recipient_id: fc.stringMatching(/^\d{1,5}$/) }),
          message_data: fc.record({ text: fc.string(), entities: fc.option(fc.record({ urls: fc.array(fc.record({ url: fc.string(), expanded_url: fc.string() })) }), { nil: undefined }) }),
        }),
        { nil: undefined },
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.record({ for_user_id: fc.stringMatching(/^\d{1,5}$/), direct_message_events: fc.array(event, { maxLength: 5 }), users: fc.option(fc.dictionary(fc.string(), fc.record({ id: fc.string() })), { nil: undefined }) }), async (body) => {
        const bytes = Buffer.from(JSON.stringify(body));
        const res = await handler(signed(bytes), lambdaContext);
        expect([200, 400]).toContain(res.statusCode);
      }),
      { numRuns: 300 },
    );
  });
});

describe('CRC handler', () => {
  const crc = (secrets: SecretSource = staticSecretSource(testSecret)) => createCrcHandler({ ...testObservability(), secrets });

  it("answers X's challenge with the expected response token", async () => {
    const res = await crc()(httpEvent({ method: 'GET', query: { crc_token: vectors.crcToken } }), lambdaContext);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body as string)).toEqual({ response_token: vectors.expectedResponseToken });
  });

  it.each<Record<string, string>>([{}, { crc_token: '' }])('answers 400 without a token (%p)', async (query) => {
    const res = await crc()(httpEvent({ method: 'GET', query }), lambdaContext);
    expect(res.statusCode).toBe(400);
  });

  it('re-reads the secret once when the cached read failed', async () => {
    let calls = 0;
    const secrets: SecretSource = {
      get: async () => {
        calls += 1;
        if (calls === 1) throw new Error('throttled');
        return testSecret;
      },
      invalidate: jest.fn(),
    };
    const res = await crc(secrets)(httpEvent({ method: 'GET', query: { crc_token: vectors.crcToken } }), lambdaContext);
    expect(res.statusCode).toBe(200);
    expect(secrets.invalidate).toHaveBeenCalledTimes(1);
  });

  it('answers 500 (never a wrong token) when the secret stays unreadable', async () => {
    const secrets: SecretSource = { get: () => Promise.reject(new Error('denied')), invalidate: () => undefined };
    const res = await crc(secrets)(httpEvent({ method: 'GET', query: { crc_token: 'x' } }), lambdaContext);
    expect(res.statusCode).toBe(500);
  });
});
