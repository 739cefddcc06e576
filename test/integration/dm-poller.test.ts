import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { ticketsSettingsSchema } from '../../functions/config';
import { dynamoConversationStore } from '../../functions/adapters/conversation-store';
import { dynamoDmPollState } from '../../functions/adapters/dm-poll-state';
import { createRelayClient } from '../../functions/adapters/fourbiz/relay';
import { createTicketsClient } from '../../functions/adapters/fourbiz/tickets';
import { sqsInboundQueue } from '../../functions/adapters/inbound-queue';
import { sqsQueueControl } from '../../functions/adapters/queue-control';
import { dynamoLeaseStore } from '../../functions/adapters/lease-store';
import { staticSecretSource } from '../../functions/adapters/secrets';
import { createXClient } from '../../functions/adapters/x-client';
import { createDmEventsSource } from '../../functions/adapters/x-dm-events';
import type { FourbizClient } from '../../functions/core/ports';
import { verifySignature } from '../../functions/core/x-signature';
import { createDispatcherHandler } from '../../functions/dispatcher/handler';
import { createDmPollerHandler, DM_POLLER_LEASE, type DmPollSummary } from '../../functions/dm-poller/handler';
import { createWebhookHandler } from '../../functions/webhook/handler';
import { signPayload } from '../../functions/core/x-signature';
import { startSqsEventSource, type SqsEventSource } from '../../local/sqs-event-source';
import { startFourbizSimulator, type FourbizSimulator } from '../../simulators/fourbiz-rest';
import { startOmnichannelSimulator, type OmnichannelSimulator } from '../../simulators/fourbiz-omnichannel';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';
import { createTestQueuePair, createTestTable, testDynamoClient, testSqsClient } from '../support/aws';
import { testObservability } from '../support/observability';
import { refusingParking } from '../support/parking';
import { httpEvent, lambdaContext } from '../support/x-fixtures';
import { until } from '../support/until';
import { memoryCircuit } from '../support/memory-circuit';

/**
 * Polling mode end to end: X simulator (GET /2/dm_events) → dm-poller → inbound FIFO (fauxqs) →
 * dispatcher → 4biz (Omnichannel callback in relay mode, REST in tickets mode); cursor, lease and
 * conversations in DynamoDB Local.
 */
jest.setTimeout(60_000);

const COMPANY = '1400000000000000001';
const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events' } as ScheduledEvent;
const person = (n: number) => `29000000000000001${String(n).padStart(2, '0')}`;

describe('polling mode: DMs read from GET /2/dm_events reach 4biz', () => {
  const sqs = testSqsClient();
  const dynamo = testDynamoClient();
  const doc = DynamoDBDocumentClient.from(dynamo);
  let x: XApiSimulator;
  const stops: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    // Many polls in a few seconds; X's own 15 per 15 minutes is the subject of one test below.
    x = await startXApiSimulator({ accountId: COMPANY, rateLimits: { 'GET /2/dm_events': { limit: 100_000, windowSeconds: 900 } } });
  });
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((s) => s()));
    x.reset();
  });
  afterAll(async () => {
    await x.close();
    sqs.destroy();
    dynamo.destroy();
  });

  /** A tenant's polling bridge on fresh queues and table; `now` is the poller's clock. */
  async function bridge(
    fourbiz: FourbizClient,
    opts: { backfillMinutes?: number; pageSizes?: { first: number; max: number }; wrapSource?: (s: ReturnType<typeof createDmEventsSource>) => ReturnType<typeof createDmEventsSource> } = {},
  ) {
    const [queues, table] = await Promise.all([createTestQueuePair(sqs, 'dm-poll', { visibilityTimeoutSeconds: 2 }), createTestTable(dynamo)]);
    const store = dynamoConversationStore(doc, table);
    const { consumerKey, consumerSecret, accessToken, accessTokenSecret } = x.credentials;
    const secrets = staticSecretSource({ consumerKey, consumerSecret, accessToken, accessTokenSecret });
    const obs = testObservability();
    const dispatcher = createDispatcherHandler({
      circuit: memoryCircuit(),
      ...testObservability(),
      store,
      fourbiz,
      queue: sqsQueueControl(sqs, queues),
      idleMinutes: 60,
      backoff: { baseSeconds: 0, maxSeconds: 1 },
    });
    const source: SqsEventSource = startSqsEventSource({ client: sqs, queueUrl: queues.queueUrl, handler: dispatcher, waitTimeSeconds: 1, concurrency: 2, onError: () => undefined });
    source.start();
    stops.push(() => source.stop());
    const clock = { now: Date.now() };
    const queue = sqsInboundQueue(sqs, queues.queueUrl);
    const dmSource = createDmEventsSource(secrets, { baseUrl: x.url });
    const state = dynamoDmPollState(doc, table);
    const leases = dynamoLeaseStore(doc, table, () => clock.now);
    const poller = createDmPollerHandler({
      ...obs,
      source: opts.wrapSource ? opts.wrapSource(dmSource) : dmSource,
      queue,
      state,
      leases,
      companyId: COMPANY,
      backfillMinutes: opts.backfillMinutes ?? 0,
      // Pages of 10 instead of up to X's 100: several pages with few DMs (and no room for the overlap).
      pageSizes: opts.pageSizes ?? { first: 10, max: 10 },
      clock: () => clock.now,
    });
    const webhook = createWebhookHandler({ parking: refusingParking, ...testObservability(), secrets, queue, xAccountId: COMPANY });
    return {
      clock,
      obs,
      state,
      leases,
      store,
      poll: () => poller(scheduled, lambdaContext) as Promise<DmPollSummary>,
      /** The same DM as X's webhook would POST it (Account Activity). */
      postWebhook: (body: Buffer) => webhook(httpEvent({ body, headers: { 'x-twitter-webhooks-signature': signPayload(consumerSecret, body) } }), lambdaContext),
      sendAsCompany: (to: string, text: string) => createXClient(secrets, { baseUrl: x.url }).sendDm(to, text),
    };
  }

  it('the cursor item in the table keeps every field of the poll state', async () => {
    const state = dynamoDmPollState(doc, await createTestTable(dynamo));
    expect(await state.load()).toBeUndefined();
    const full = {
      cursor: '1861000000000000100',
      boundaryId: '1861000000000000150',
      resume: [{ token: 'b2xkZXI', oldestId: '1861000000000000300' }, { token: 'b2xkZXIy' }],
      notBeforeMs: 1_764_000_000_000,
      overlapFromMs: 1_763_999_400_000,
      recent: [{ id: '1861000000000000100', atMs: 1_763_999_900_000 }, { id: '1861000000000000090', atMs: 1_763_999_800_000 }],
    };
    await state.save(full);
    expect(await state.load()).toEqual(full);
    await state.save({ floorMs: 1_764_000_000_000 });
    expect(await state.load()).toEqual({ floorMs: 1_764_000_000_000 });
  });

  describe('relay mode', () => {
    let omni: OmnichannelSimulator;
    beforeEach(async () => {
      omni = await startOmnichannelSimulator({ consumerSecret: x.credentials.consumerSecret });
      stops.push(() => omni.stop());
    });
    const relay = () => createRelayClient({ mode: 'relay', callbackUrl: omni.url, timeoutMs: 2_000 }, staticSecretSource({ ...x.credentials }));
    const delivered = () => omni.deliveries.map((d) => d.eventId);

    it('first run without backfill: the history stays out of 4biz; the next DMs arrive as signed AAA payloads', async () => {
      for (let i = 0; i < 3; i++) x.addDmEvent({ senderId: person(1), text: `antiga ${i}`, createdAt: new Date(Date.now() - 86_400_000 + i) });
      const b = await bridge(relay());
      expect(await b.poll()).toMatchObject({ ran: true, outcome: 'caught-up', queued: 0 });
      expect((await b.state.load())?.cursor).toBe(x.dmEvents.at(-1)!.id);

      const id = x.addDmEvent({ senderId: person(2), username: 'ana_lima', name: 'Ana Lima', text: 'Meu pedido não chegou https://t.co/p1', urls: [{ url: 'https://t.co/p1', expandedUrl: 'https://example.com/pedido/1' }] });
      expect(await b.poll()).toMatchObject({ outcome: 'caught-up', queued: 1 });
      await until('the DM at 4biz', () => omni.deliveries.length === 1, 30_000);
      const [d] = omni.deliveries;
      expect(d!.eventId).toBe(id);
      expect(verifySignature(x.credentials.consumerSecret, d!.raw, d!.signature)).toBe(true);
      expect(d!.body).toMatchObject({
        for_user_id: COMPANY,
        direct_message_events: [
          {
            type: 'message_create',
            id,
            created_timestamp: String(Date.parse(x.dmEvents.at(-1)!.created_at)),
            message_create: {
              target: { recipient_id: COMPANY },
              sender_id: person(2),
              message_data: { text: 'Meu pedido não chegou https://t.co/p1', entities: { urls: [{ url: 'https://t.co/p1', expanded_url: 'https://example.com/pedido/1' }] } },
            },
          },
        ],
        // The company is described only when it is a sender on the page (includes.users expands sender_id).
        users: { [person(2)]: { id_str: person(2), screen_name: 'ana_lima', name: 'Ana Lima' }, [COMPANY]: { id: COMPANY, id_str: COMPANY } },
      });
      expect(b.obs.published()).toMatchObject({ DmPolled: 1, DmPollRuns: 2, DmPollLag: expect.any(Number) });
    });

    it('a DM X shows late, below a DM already relayed, reaches 4biz once (DmPolledLate); the re-reads relay nothing twice', async () => {
      const b = await bridge(relay(), { pageSizes: { first: 5, max: 100 } });
      await b.poll();
      const first = x.addDmEvent({ senderId: person(1), text: 'primeira' });
      expect(await b.poll()).toMatchObject({ outcome: 'caught-up', queued: 1 });
      // Sent just after the first poll, before `first`; X's lookup shows it only now.
      const late = x.addDmEvent({ senderId: person(2), text: 'atrasada', createdAt: new Date(b.clock.now + 1), late: true });
      expect(BigInt(late) < BigInt(first)).toBe(true);
      expect(await b.poll()).toMatchObject({ outcome: 'caught-up', pages: 1, queued: 1 });
      for (let i = 0; i < 3; i++) expect(await b.poll()).toMatchObject({ pages: 1, queued: 0 });
      await until('both DMs at 4biz', () => omni.deliveries.length >= 2, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(delivered()).toEqual([first, late]);
      expect(b.obs.published()).toMatchObject({ DmPolled: 2, DmPolledLate: 1 });
    });

    it('first run with pollBackfillMinutes relays just that window', async () => {
      x.addDmEvent({ senderId: person(1), text: 'ontem', createdAt: new Date(Date.now() - 86_400_000) });
      const recent = x.addDmEvent({ senderId: person(1), text: 'há 10 minutos', createdAt: new Date(Date.now() - 600_000) });
      const b = await bridge(relay(), { backfillMinutes: 30 });
      await b.poll();
      await until('the recent DM', () => omni.deliveries.length === 1, 30_000);
      expect(delivered()).toEqual([recent]);
    });

    it('several pages down to the cursor, per-person order kept, the company\'s own DMs skipped', async () => {
      const b = await bridge(relay());
      await b.poll();
      const sent: Record<string, string[]> = {};
      for (let i = 0; i < 25; i++) {
        const who = person(i % 7);
        (sent[who] ??= []).push(x.addDmEvent({ senderId: who, text: `mensagem ${i}` }));
      }
      await b.sendAsCompany(person(1), 'Olá, já vamos ver');
      // A group conversation's DM and a join: 4biz answers one person; the poller asks X for MessageCreate only.
      x.addDmEvent({ senderId: person(2), conversationId: '1861000000000009999', text: 'no grupo' });
      x.addDmEvent({ senderId: person(3), eventType: 'ParticipantsJoin', conversationId: '1861000000000009999' });
      const out = await b.poll();
      expect(out).toMatchObject({ outcome: 'caught-up', pages: 3, queued: 25, skipped: 2 });
      await until('25 DMs at 4biz', () => omni.deliveries.length >= 25, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(omni.deliveries).toHaveLength(25);
      for (const [who, ids] of Object.entries(sent)) expect(omni.deliveries.filter((d) => d.senderId === who).map((d) => d.eventId)).toEqual(ids);
      expect(b.obs.published()).toMatchObject({ EchoDropped: 1, EventIgnored: 1, DmPolled: 25 });
      // Nothing new: one page, nothing relayed twice.
      expect(await b.poll()).toMatchObject({ pages: 1, queued: 0 });
    });

    it('a 429 mid-run stops the run until x-rate-limit-reset; the next runs catch up with nothing lost or reordered', async () => {
      let calls = 0;
      const resetAt = Math.floor(Date.now() / 1000) + 900;
      const b = await bridge(relay(), {
        wrapSource: (s) => ({
          page: (token, size) => {
            if (++calls === 3) x.failDmLookupNext(1, { status: 429, resetAt });
            return s.page(token, size);
          },
        }),
      });
      await b.poll();
      const ids = Array.from({ length: 30 }, (_, i) => x.addDmEvent({ senderId: person(i % 2), text: `m${i}` }));
      expect(await b.poll()).toMatchObject({ outcome: 'interrupted', pages: 1, queued: 0 });
      expect(b.obs.published()).toMatchObject({ DmPollRateLimited: 1 });
      // Where the next run continues: after the page it read, whose oldest DM is m20.
      expect((await b.state.load())?.resume).toEqual([{ token: expect.any(String), oldestId: ids[20] }]);
      const lookups = () => x.requests.filter((r) => r.path === '/2/dm_events').length;

      // Before the reset, a scheduled run does not call X at all.
      const before = lookups();
      b.clock.now += 60_000;
      expect(await b.poll()).toMatchObject({ outcome: 'rate-limited' });
      expect(lookups()).toBe(before);

      b.clock.now = resetAt * 1000 + 1000;
      // The older part first (m0…m19, read from the resume point), then the newer part from the top.
      expect(await b.poll()).toMatchObject({ outcome: 'caught-up', queued: 20 });
      expect(await b.poll()).toMatchObject({ outcome: 'caught-up', queued: 10 });
      await until('30 DMs', () => omni.deliveries.length >= 30, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      expect([...delivered()].sort()).toEqual([...ids].sort());
      for (const who of [person(0), person(1)]) {
        const mine = omni.deliveries.filter((d) => d.senderId === who).map((d) => d.eventId);
        expect(mine).toEqual(ids.filter((_, i) => person(i % 2) === who));
      }
    });

    it('overlapping reads (cursor lost after queueing) and the same DM from a webhook reach 4biz once', async () => {
      const b = await bridge(relay());
      await b.poll();
      const ids = [x.addDmEvent({ senderId: person(3), text: 'um' }), x.addDmEvent({ senderId: person(3), text: 'dois' })];
      const before = await b.state.load();
      await b.poll();
      await until('two DMs', () => omni.deliveries.length === 2, 30_000);
      // As if the run had died after the queue accepted and before the cursor moved.
      await b.state.save(before!);
      await b.poll();
      // The same DM again through a webhook (a tenant switching ingestion, or both on).
      const ev = x.dmEvents.at(-1)!;
      const aaa = {
        for_user_id: COMPANY,
        direct_message_events: [{ type: 'message_create', id: ev.id, created_timestamp: String(Date.parse(ev.created_at)), message_create: { target: { recipient_id: COMPANY }, sender_id: person(3), message_data: { text: 'dois' } } }],
        users: { [person(3)]: { id: person(3) } },
      };
      expect((await b.postWebhook(Buffer.from(JSON.stringify(aaa))) as { statusCode: number }).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(delivered()).toEqual(ids);
    });

    it("X's own limit (15 lookups per 15 minutes): the 16th poll gets a 429 and the runs after it wait for the window's reset without calling X", async () => {
      const limited = await startXApiSimulator({ accountId: COMPANY });
      stops.push(() => limited.close());
      const { consumerKey, consumerSecret, accessToken, accessTokenSecret } = limited.credentials;
      const table = await createTestTable(dynamo);
      const obs = testObservability();
      const clock = { now: Date.now() };
      const poll = createDmPollerHandler({
        ...obs,
        source: createDmEventsSource(staticSecretSource({ consumerKey, consumerSecret, accessToken, accessTokenSecret }), { baseUrl: limited.url }),
        queue: { send: async () => undefined },
        state: dynamoDmPollState(doc, table),
        leases: dynamoLeaseStore(doc, table, () => clock.now),
        companyId: COMPANY,
        backfillMinutes: 0,
        clock: () => clock.now,
      });
      const lookups = () => limited.requests.filter((r) => r.path === '/2/dm_events');
      for (let i = 0; i < 15; i++) expect(await poll(scheduled, lambdaContext)).toMatchObject({ outcome: 'caught-up' });
      expect(await poll(scheduled, lambdaContext)).toMatchObject({ outcome: 'interrupted', failed: false });
      expect(lookups().map((r) => r.status)).toEqual([...Array(15).fill(200), 429]);
      expect(obs.published()).toMatchObject({ DmPollRateLimited: 1 });
      const { notBeforeMs } = (await dynamoDmPollState(doc, table).load())!;
      expect(notBeforeMs).toBeGreaterThan(Date.now() + 800_000);
      clock.now += 60_000;
      expect(await poll(scheduled, lambdaContext)).toMatchObject({ outcome: 'rate-limited' });
      expect(lookups()).toHaveLength(16);
    });

    it('refused keys are loud: XAuthFailure and DmPollFailed, the cursor stays', async () => {
      const b = await bridge(relay());
      await b.poll();
      const cursor = await b.state.load();
      x.addDmEvent({ senderId: person(4), text: 'oi' });
      x.failDmLookupNext(1, { status: 401 });
      expect(await b.poll()).toMatchObject({ ran: true, failed: true, outcome: 'interrupted' });
      expect(b.obs.published()).toMatchObject({ XAuthFailure: 1, DmPollFailed: 1 });
      expect(await b.state.load()).toEqual(cursor);
      await b.poll();
      await until('the DM after the keys work again', () => omni.deliveries.length === 1, 30_000);
    });

    it('runs one at a time: while another run holds the lease, a run does not call X', async () => {
      const b = await bridge(relay());
      expect(await b.leases.tryAcquire(DM_POLLER_LEASE, 'another-run', 60)).toBe(true);
      const before = x.requests.length;
      expect(await b.poll()).toEqual({ ran: false });
      expect(x.requests.length).toBe(before);
      await b.leases.release(DM_POLLER_LEASE, 'another-run');
      expect(await b.poll()).toMatchObject({ ran: true });
    });
  });

  describe('tickets mode', () => {
    let fourbiz: FourbizSimulator;
    beforeEach(async () => {
      fourbiz = await startFourbizSimulator();
      stops.push(() => fourbiz.close());
    });

    it('a polled DM opens the 4biz request', async () => {
      const secrets = staticSecretSource({ ...x.credentials, fourbizUser: fourbiz.userName, fourbizPassword: fourbiz.password });
      const settings = ticketsSettingsSchema.parse({ mode: 'tickets', baseUrl: fourbiz.baseUrl, contractId: 1, timeoutMs: 2000 });
      const b = await bridge(createTicketsClient(settings, secrets));
      await b.poll();
      x.addDmEvent({ senderId: person(5), username: 'maria', name: 'Maria Souza', text: 'Minha impressora parou' });
      await b.poll();
      await until('the 4biz request', () => fourbiz.requests.length === 1, 30_000);
      expect(fourbiz.requests[0]).toMatchObject({
        numberOrigin: expect.stringMatching(new RegExp(`^${person(5)}`)),
        source: expect.objectContaining({ description: expect.stringContaining('Minha impressora parou') }),
      });
    });
  });
});
