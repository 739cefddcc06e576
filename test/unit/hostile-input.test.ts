import type { SQSClient } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { testObservability } from '../support/observability';
import { refusingParking } from '../support/parking';
import { createWebhookHandler, SECRET_REREAD_INTERVAL_MS } from '../../functions/webhook/handler';
import type { SecretSource } from '../../functions/adapters/secrets';
import { staticSecretSource } from '../../functions/adapters/secrets';
import { sqsInboundQueue } from '../../functions/adapters/inbound-queue';
import type { InboundQueue } from '../../functions/core/ports';
import { sendFifo } from '../../functions/adapters/fifo-send';
import { SQS_MAX_MESSAGE_BYTES } from '../../functions/core/queue-limits';
import { sqsJson } from '../../functions/adapters/sqs-json';
import { bookkeepingTime, expandUrls, inboundMessageSchema, MAX_EXPANDED_TEXT_CHARS, type InboundMessage } from '../../functions/core/x-events';
import { signPayload } from '../../functions/core/x-signature';
import { fixtureAccountId, fixtureBytes, fixtureClock, httpEvent, lambdaContext, testSecret, vectors } from '../support/x-fixtures';

/** Issue 8 §2–3: what a correctly signed but hostile or odd delivery does. */
/** The fixture as a loose JSON tree, so a test can bend any field of it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON tree a test mutates freely
type Json = any;
const dm = (): Json => JSON.parse(fixtureBytes('dm-received.json').toString());

function setup(opts: { secrets?: SecretSource; queue?: InboundQueue; clock?: () => number } = {}) {
  const sent: InboundMessage[] = [];
  const queue: InboundQueue = opts.queue ?? { send: async (m) => void sent.push(...m) };
  const observability = testObservability();
  const handler = createWebhookHandler({
    parking: refusingParking,
    ...observability,
    secrets: opts.secrets ?? staticSecretSource(testSecret),
    queue,
    xAccountId: fixtureAccountId,
    clock: opts.clock ?? fixtureClock,
  });
  const post = async (body: unknown, secret = vectors.consumerSecret) => {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    return handler(httpEvent({ body: bytes, headers: { 'x-twitter-webhooks-signature': signPayload(secret, bytes) } }), lambdaContext);
  };
  return { post, sent, published: observability.published };
}

describe('deliveries belong to the tenant account (§2)', () => {
  it('answers a signed delivery for another account 200, forwards nothing, counts ForeignAccountDropped', async () => {
    const t = setup();
    const body = dm();
    body.for_user_id = '1400000000000000999';
    const res = await t.post(body);
    expect(res.statusCode).toBe(200);
    expect(t.sent).toEqual([]);
    expect(t.published()).toEqual({ ForeignAccountDropped: 1 });
  });
});

describe('hostile or odd input (§3)', () => {
  it.each([
    ['an event id that is not digits', (b: Json) => (b.direct_message_events[0].id = 'out:90000')],
    ['a sender id that is not digits', (b: Json) => (b.direct_message_events[0].message_create.sender_id = '29x')],
  ])('answers 400 for %s', async (_, mutate) => {
    const t = setup();
    const body = dm();
    mutate(body);
    expect((await t.post(body)).statusCode).toBe(400);
    expect(t.sent).toEqual([]);
  });

  // Issue 18 §1: the users map is content (X: "field availability can vary"). A bad entry is left
  // out, never a 400 that loses the DM, and never lends the sender another user's name.
  it.each([
    ['a users key that is not digits', (b: Json) => (b.users.evil = { id: 'evil', name: 'CEO' })],
    ['a users entry claiming another id', (b: Json) => (b.users['2900000000000000042'] = { id: '1400000000000000001', name: 'CEO' })],
  ])('forwards the DM once for %s, never taking a name from it', async (_, mutate) => {
    const t = setup();
    const body = dm();
    mutate(body);
    expect((await t.post(body)).statusCode).toBe(200);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0].sender.name).not.toBe('CEO');
    expect(JSON.stringify(t.sent[0].raw.users)).not.toContain('CEO');
  });

  it('forwards the DM for a __proto__ users key, and never takes a sender from a prototype', async () => {
    const t = setup();
    const body = dm();
    delete body.users['2900000000000000042'];
    const text = JSON.stringify(body).replace('"users":{', '"users":{"__proto__":{"2900000000000000042":{"id":"2900000000000000042","name":"I am your CEO"}},');
    expect((await t.post(text)).statusCode).toBe(200);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0].sender.name).toBeUndefined();
    expect(t.sent[0].raw.users['2900000000000000042']).toEqual({ id: '2900000000000000042', id_str: '2900000000000000042', protected: false, verified: false });
  });

  it('expands only non-empty https://t.co entries, never multiplying the text', async () => {
    expect(expandUrls('abc', [{ url: '', expanded_url: 'X'.repeat(1000) }])).toBe('abc');
    expect(expandUrls('see http://evil', [{ url: 'http://evil', expanded_url: 'https://x' }])).toBe('see http://evil');
    const t = setup();
    const body = dm();
    body.direct_message_events[0].message_create.message_data.text = 'a'.repeat(5000);
    body.direct_message_events[0].message_create.message_data.entities.urls = [{ url: '', expanded_url: 'y'.repeat(5000) }];
    expect((await t.post(body)).statusCode).toBe(200);
    expect(t.sent[0].text).toBe('a'.repeat(5000));
  });

  it('bounds the expanded text', () => {
    const text = Array.from({ length: 400 }, () => 'https://t.co/abc').join(' ');
    const out = expandUrls(text, [{ url: 'https://t.co/abc', expanded_url: `https://example.com/${'p'.repeat(2000)}` }]);
    expect(out.length).toBeLessThanOrEqual(MAX_EXPANDED_TEXT_CHARS);
    expect(out).toContain('https://example.com/');
  });

  it('answers 400, not 5xx, for a delivery nested 100,000 deep in an unknown field', async () => {
    // The real queue adapter serialises the message: the old code overflowed the stack there (503 on every retry).
    const client = { send: async () => ({ Successful: [], Failed: [] }) } as unknown as SQSClient;
    const t = setup({ queue: sqsInboundQueue(client, 'https://sqs.local/q.fifo') });
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const text = JSON.stringify(dm()).replace('"message_data":{', `"message_data":{"extra":${deep},`);
    const res = await t.post(text);
    expect(res.statusCode).toBe(400);
  });

  it('clamps a created_timestamp far in the future to the time received, for the bookkeeping only', async () => {
    const receivedAt = 1_732_500_000_000;
    const t = setup({ clock: () => receivedAt });
    const body = dm();
    body.direct_message_events[0].created_timestamp = String(receivedAt + 365 * 24 * 3600_000);
    expect((await t.post(body)).statusCode).toBe(200);
    const [m] = t.sent;
    expect(m.createdTimestamp).toBe(String(receivedAt + 365 * 24 * 3600_000));
    expect(bookkeepingTime(m, receivedAt + 5_000).getTime()).toBe(receivedAt);
    // Ordinary skew stays as X said.
    expect(bookkeepingTime({ createdTimestamp: String(receivedAt + 60_000), receivedAt: m.receivedAt }, receivedAt).getTime()).toBe(receivedAt + 60_000);
  });

  it('gives a sender missing from users a minimal users entry (id, id_str) for 4biz', async () => {
    const t = setup();
    const body = dm();
    delete body.users['2900000000000000042'];
    expect((await t.post(body)).statusCode).toBe(200);
    expect(t.sent[0].raw.users['2900000000000000042']).toMatchObject({ id: '2900000000000000042', id_str: '2900000000000000042' });
  });
});

describe('normalising never throws (§3, property)', () => {
  it('answers 200 or 4xx — never 5xx, never a throw — for any signed variation of text, links, users and unknown fields', async () => {
    const client = { send: async () => ({ Failed: [] }) } as unknown as SQSClient;
    const t = setup({ queue: sqsInboundQueue(client, 'https://sqs.local/q.fifo') });
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.array(fc.record({ url: fc.oneof(fc.constant(''), fc.constant('https://t.co/abc'), fc.string()), expanded_url: fc.oneof(fc.string(), fc.constant(undefined)) }), { maxLength: 5 }),
        fc.anything({ maxDepth: 4 }),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.record({ id: fc.string({ maxLength: 8 }) }), { maxKeys: 3 }),
        async (text, urls, extra, users) => {
          const body = dm();
          const data = body.direct_message_events[0].message_create.message_data;
          data.text = text;
          data.entities.urls = urls;
          data.extra = extra;
          Object.assign(body.users, users);
          const res = await t.post(body);
          expect([200, 400, 413]).toContain(res.statusCode);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('queue bodies SQS takes unchanged (§3)', () => {
  it('escapes U+FFFE, U+FFFF and lone surrogates, and the text parses back unchanged', () => {
    const text = 'a\uFFFEb\uFFFFc\uD800d';
    const body = sqsJson({ text });
    expect(body).not.toMatch(/[\uD800-\uDFFF\uFFFE\uFFFF]/);
    expect(JSON.parse(body)).toEqual({ text });
  });

  it('splits a delivery larger than one SQS batch by the size limit, in order, instead of refusing it', async () => {
    const batches: { Entries: { MessageBody: string; MessageDeduplicationId: string }[] }[] = [];
    const client = { send: async (cmd: { input: (typeof batches)[number] }) => (batches.push(cmd.input), { Failed: [] }) } as unknown as SQSClient;
    const entries = Array.from({ length: 12 }, (_, i) => ({ body: { text: 'x'.repeat(250_000) }, groupId: '1', dedupId: String(i) }));
    await sendFifo(client, 'https://sqs.local/q.fifo', entries);
    for (const b of batches) expect(b.Entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody), 0)).toBeLessThanOrEqual(SQS_MAX_MESSAGE_BYTES);
    expect(batches.flatMap((b) => b.Entries.map((e) => e.MessageDeduplicationId))).toEqual(entries.map((e) => e.dedupId));
  });

  /** A client that keeps every SendMessageBatch entry. */
  function capturingClient() {
    const entries: { MessageBody: string; MessageGroupId: string }[] = [];
    const client = { send: async (cmd: { input: { Entries: typeof entries } }) => (entries.push(...cmd.input.Entries), { Failed: [] }) } as unknown as SQSClient;
    return { client, entries };
  }

  it('queues a delivery holding a short DM and one of 5,000 family emoji (125 KB): 200, both DMs, the long text once and without escapes', async () => {
    const { client, entries } = capturingClient();
    const t = setup({ queue: sqsInboundQueue(client, 'https://sqs.sa-east-1.amazonaws.com/1/q.fifo') });
    const body = dm();
    const long = structuredClone(body.direct_message_events[0]);
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}';
    long.id = '1861000000000000999';
    long.message_create.sender_id = '3100000000000000077';
    long.message_create.message_data = { text: family.repeat(5_000), entities: { urls: [] } };
    body.users['3100000000000000077'] = { id: '3100000000000000077', screen_name: 'other' };
    body.direct_message_events.push(long);
    const bytes = Buffer.from(JSON.stringify(body));
    expect(bytes.length).toBeGreaterThan(125_000);
    expect((await t.post(bytes)).statusCode).toBe(200);
    expect(entries).toHaveLength(2);
    const queued = entries[1].MessageBody;
    // Old encoding: every surrogate a 6-byte escape, and the text twice (570 KB). Now: the text once, as UTF-8.
    expect(queued).not.toMatch(/\\ud[89ab]/i);
    expect(queued.split(family).length - 1).toBe(5_000);
    console.log(`5,000 family emoji: delivery ${bytes.length} bytes, queue body ${Buffer.byteLength(queued)} bytes (limit ${SQS_MAX_MESSAGE_BYTES})`);
    expect(Buffer.byteLength(queued)).toBeLessThan(130_000);
    const parsed = inboundMessageSchema.parse(JSON.parse(queued));
    expect(parsed.text).toBe(family.repeat(5_000));
  });

  it('the longest DM X can send (10,000 characters, each 4 bytes, its links expanded to the most) fits one SQS message', async () => {
    const { client, entries } = capturingClient();
    const t = setup({ queue: sqsInboundQueue(client, 'https://sqs.sa-east-1.amazonaws.com/1/q.fifo') });
    const body = dm();
    const data = body.direct_message_events[0].message_create.message_data;
    data.text = '\u{1F600}'.repeat(10_000 - 23) + ' https://t.co/abc';
    data.entities = { urls: [{ url: 'https://t.co/abc', expanded_url: `https://example.com/${'p'.repeat(30_000)}` }] };
    expect((await t.post(body)).statusCode).toBe(200);
    expect(Buffer.byteLength(entries[0].MessageBody)).toBeLessThan(SQS_MAX_MESSAGE_BYTES / 4);
  });

  it('answers 503 (X delivers again, EnqueueFailed pages), never 4xx, when a signed DM is still too big for SQS', async () => {
    const { client, entries } = capturingClient();
    const t = setup({ queue: sqsInboundQueue(client, 'https://sqs.sa-east-1.amazonaws.com/1/q.fifo') });
    const body = dm();
    body.direct_message_events[0].message_create.message_data.padding = 'p'.repeat(SQS_MAX_MESSAGE_BYTES);
    expect((await t.post(body)).statusCode).toBe(503);
    expect(entries).toEqual([]);
    expect(t.published()).toMatchObject({ EnqueueFailed: 1 });
  });

});

describe('consumer secret rotation (§3)', () => {
  it('re-reads the secret after a mismatch, at most once a minute, and accepts the new signatures', async () => {
    let current = { ...testSecret, consumerSecret: 'old-secret' };
    let reads = 0;
    let cached: typeof current | undefined;
    const secrets: SecretSource = {
      get: async () => (cached ??= (reads++, current)),
      invalidate: () => void (cached = undefined),
    };
    let now = 1_000_000;
    const t = setup({ secrets, clock: () => now });
    expect((await t.post(dm(), 'old-secret')).statusCode).toBe(200);
    current = { ...testSecret, consumerSecret: 'new-secret' };
    expect((await t.post(dm(), 'new-secret')).statusCode).toBe(200);
    expect(reads).toBe(2);
    // A forger's mismatches within the minute do not re-read.
    expect((await t.post(dm(), 'forged')).statusCode).toBe(401);
    expect((await t.post(dm(), 'forged')).statusCode).toBe(401);
    expect(reads).toBe(2);
    now += SECRET_REREAD_INTERVAL_MS;
    expect((await t.post(dm(), 'forged')).statusCode).toBe(401);
    expect(reads).toBe(3);
  });
});
