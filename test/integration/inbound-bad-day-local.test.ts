import '../support/test-env';
import { SQSClient } from '@aws-sdk/client-sqs';
import { signPayload } from '../../functions/core/x-signature';
import { accountActivitySchema, normaliseDelivery } from '../../functions/core/x-events';
import { sqsInboundQueue } from '../../functions/adapters/inbound-queue';
import { redrive } from '../../cli/dlq-commands';
import { localAws } from '../../local/function-wiring';
import type { LocalBridge } from '../../local/start';
import { startTestBridge, testEmulators } from '../support/local-bridge';
import { until } from '../support/until';

/**
 * Issue 16's acceptance against the local runner (`npm start` in-process, relay mode, the real
 * webhook and dispatcher, local timings: the outage circuit opens after 1 s): a 4biz redeploy
 * (404, then 302 to a maintenance page) while people write, and one delivery holding a short and a
 * very long DM.
 */

let nextId = BigInt(Date.now()) * 1000n;
const people = ['2900000000000000711', '2900000000000000712', '2900000000000000713'];

/** An Account Activity delivery (X's documented shape) holding one DM event per item. */
function delivery(accountId: string, dms: { senderId: string; text: string; createdMs?: number }[]): { body: Buffer; eventIds: string[] } {
  const events = dms.map((dm) => ({
    type: 'message_create',
    id: String(++nextId),
    created_timestamp: String(dm.createdMs ?? Date.now()),
    message_create: { target: { recipient_id: accountId }, sender_id: dm.senderId, message_data: { text: dm.text, entities: { hashtags: [], symbols: [], user_mentions: [], urls: [] } } },
  }));
  const users = Object.fromEntries(
    [accountId, ...dms.map((d) => d.senderId)].map((id) => [id, { id, created_timestamp: '1400000000000', name: `Pessoa ${id.slice(-3)}`, screen_name: `pessoa_${id.slice(-3)}`, protected: false, verified: false, followers_count: 1, friends_count: 1, statuses_count: 1 }]),
  );
  return { body: Buffer.from(JSON.stringify({ for_user_id: accountId, direct_message_events: events, users }), 'utf8'), eventIds: events.map((e) => e.id) };
}

describe('local bridge (relay) on one of 4biz\'s bad days', () => {
  let bridge: LocalBridge;
  beforeAll(async () => {
    bridge = await startTestBridge();
  }, 30_000);
  afterAll(() => bridge?.stop());
  afterEach(() => bridge.omnichannel!.reset());

  const post = (body: Buffer) =>
    fetch(bridge.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': signPayload(bridge.consumerSecret, body) }, body });

  it('4biz answers 404, then 302, for 10 s while three people send four DMs each: all 12 reach 4biz once, each person\'s in order', async () => {
    const omnichannel = bridge.omnichannel!;
    const started = Date.now();
    omnichannel.failWith(404);
    const sent = new Map<string, string[]>(people.map((p) => [p, []]));
    for (let n = 1; n <= 4; n++) {
      for (const person of people) {
        const { body, eventIds } = delivery(bridge.tenant.xAccountId, [{ senderId: person, text: `mensagem ${n} de ${person.slice(-3)}` }]);
        expect((await post(body)).status).toBe(200);
        sent.get(person)!.push(eventIds[0]!);
      }
      await new Promise((r) => setTimeout(r, 1_000));
      if (n === 2) omnichannel.failWith(302);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - started))));
    const refused = omnichannel.calls.filter((c) => c.status !== 200);
    omnichannel.failWith(undefined);

    const all = [...sent.values()].flat();
    await until('all 12 DMs at 4biz', () => (all.every((id) => omnichannel.deliveries.some((d) => d.eventId === id)) ? true : undefined), 60_000);
    // Time for a repeat to show up.
    await new Promise((r) => setTimeout(r, 2_000));
    const delivered = omnichannel.deliveries.filter((d) => all.includes(d.eventId));
    console.log(`12 DMs through 10 s of 404/302: ${refused.filter((c) => c.status === 404).length} answered 404, ${refused.filter((c) => c.status === 302).length} answered 302, all delivered ${((Date.now() - started) / 1000).toFixed(1)} s after the first`);
    expect(delivered).toHaveLength(12);
    for (const person of people) expect(delivered.filter((d) => d.senderId === person).map((d) => d.eventId)).toEqual(sent.get(person));
    // The redeploy was seen in both shapes.
    expect(new Set(refused.map((c) => c.status))).toEqual(new Set([404, 302]));
  }, 90_000);

  it('a delivery with one person\'s short DM and another\'s DM of 5,000 family emoji: both reach 4biz, the long text byte-identical', async () => {
    const long = '👨‍👩‍👧‍👦'.repeat(5_000);
    const { body, eventIds } = delivery(bridge.tenant.xAccountId, [
      { senderId: people[0]!, text: 'oi, tudo bem?' },
      { senderId: people[1]!, text: long },
    ]);
    expect(body.length).toBeGreaterThan(125_000);
    expect((await post(body)).status).toBe(200);
    const omnichannel = bridge.omnichannel!;
    const [short, family] = await until(
      'both DMs at 4biz',
      () => {
        const found = eventIds.map((id) => omnichannel.deliveries.find((d) => d.eventId === id));
        return found.every(Boolean) ? found : undefined;
      },
      20_000,
    );
    expect(short!.body.direct_message_events![0]!.message_create!.message_data!.text).toBe('oi, tudo bem?');
    const text = family!.body.direct_message_events![0]!.message_create!.message_data!.text;
    expect(Buffer.from(text, 'utf8').equals(Buffer.from(long, 'utf8'))).toBe(true);
  }, 30_000);

  it('a DM 90 days old in a signed delivery is acknowledged and not forwarded; the same DM moved back from the DLQ (npm run dlq -- redrive) is delivered', async () => {
    const omnichannel = bridge.omnichannel!;
    const old = delivery(bridge.tenant.xAccountId, [{ senderId: people[2]!, text: 'capturada há 90 dias', createdMs: Date.now() - 90 * 24 * 3600_000 }]);
    const [eventId] = old.eventIds;
    expect((await post(old.body)).status).toBe(200);
    // A fresh DM of the same person after it: once it is at 4biz, the old one would have been too.
    const marker = delivery(bridge.tenant.xAccountId, [{ senderId: people[2]!, text: 'depois' }]);
    expect((await post(marker.body)).status).toBe(200);
    await until('the fresh DM at 4biz', () => omnichannel.deliveries.find((d) => d.eventId === marker.eventIds[0]), 10_000);
    expect(omnichannel.deliveries.filter((d) => d.eventId === eventId)).toEqual([]);

    // The operator's copy of that DM in the DLQ (as the dispatcher parks one), moved back.
    const sqs = new SQSClient({ endpoint: testEmulators().sqsEndpoint, ...localAws });
    try {
      const [message] = normaliseDelivery(accountActivitySchema.parse(JSON.parse(old.body.toString('utf8')))).messages;
      await sqsInboundQueue(sqs, bridge.names.inboundDlqUrl).send([message!]);
      const ref = (url: string) => ({ name: url.split('/').at(-1)!, url, arn: '' });
      const moved = await redrive(sqs, { queue: ref(bridge.names.inboundQueueUrl), dlq: ref(bridge.names.inboundDlqUrl) }, () => undefined);
      expect(moved.moved).toBe(1);
    } finally {
      sqs.destroy();
    }
    const redriven = await until('the redriven DM at 4biz', () => omnichannel.deliveries.find((d) => d.eventId === eventId), 10_000);
    expect(redriven.body.direct_message_events![0]!.message_create!.message_data!.text).toBe('capturada há 90 dias');
  }, 30_000);
});
