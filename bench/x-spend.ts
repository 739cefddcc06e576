import type { ScheduledEvent } from 'aws-lambda';
import { staticSecretSource } from '../functions/adapters/secrets';
import { createXClient } from '../functions/adapters/x-client';
import { createDmEventsSource } from '../functions/adapters/x-dm-events';
import type { DmPollState } from '../functions/core/dm-poll-state';
import type { InboundMessage } from '../functions/core/x-events';
import { createDmPollerHandler } from '../functions/dm-poller/handler';
import { listenOnLoopback } from '../simulators/http';
import { startXApiSimulator, type XApiSimulator } from '../simulators/x';
import { testObservability } from '../test/support/observability';
import { lambdaContext } from '../test/support/x-fixtures';

/**
 * What X bills per 1,000 DMs in each ingestion mode, measured with the X simulator's meter
 * (simulators/x/billing.ts: X's pay-per-use rules) over the bridge's own calls: the real dm-poller
 * and the real sender's X client (twitter-api-v2). X's clock is simulated, so a day of polling once
 * a minute runs in seconds.
 */
export interface XSpend {
  dms: number;
  /** US dollars per 1,000 inbound DMs, and per 1,000 replies sent. */
  inboundPer1000: { xaaWebhook: number; aaaWebhook: number; polling: number };
  repliesPer1000: number;
  /** Polling: a day without DMs, and that day times 30. */
  pollingIdleDay: number;
  pollingIdleMonth: number;
  /** Lookups the poller made in the busy day and in the idle day. */
  lookups: { busyDay: number; idleDay: number };
}

const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events' } as ScheduledEvent;
const per1000 = (usd: number, n: number) => Math.round((usd * 1000 * 1000) / n) / 1000;
const person = (i: number) => String(2900000000000000000n + BigInt(i % 200));

/** A day of polling once a minute while `dms` DMs arrive evenly; returns X's bill for the day. */
async function pollingDay(x: XApiSimulator, clock: { now: number }, dms: number): Promise<{ usd: number; lookups: number; queued: number }> {
  const queued: InboundMessage[] = [];
  let state: DmPollState | undefined;
  const poller = createDmPollerHandler({
    ...testObservability('bench'),
    source: createDmEventsSource(staticSecretSource({ ...x.credentials }), { baseUrl: x.url }),
    queue: { send: async (m) => void queued.push(...m) },
    state: { load: async () => state, save: async (s) => void (state = s) },
    leases: { tryAcquire: async () => true, release: async () => undefined },
    companyId: x.accountId,
    backfillMinutes: 0,
    clock: () => clock.now,
  });
  await poller(scheduled, lambdaContext); // the cursor starts at the newest event
  const before = x.billing.usd();
  const lookupsBefore = x.requests.filter((r) => r.path === '/2/dm_events').length;
  let sent = 0;
  for (let minute = 1; minute <= 1440; minute++) {
    clock.now += 60_000;
    const due = Math.floor((dms * minute) / 1440);
    for (; sent < due; sent++) x.addDmEvent({ senderId: person(sent), username: 'bench', name: 'Bench', text: `mensagem ${sent}`, createdAt: new Date(clock.now) });
    await poller(scheduled, lambdaContext);
  }
  return { usd: x.billing.usd() - before, lookups: x.requests.filter((r) => r.path === '/2/dm_events').length - lookupsBefore, queued: queued.length };
}

export async function measureXSpend(dms = 1000): Promise<XSpend> {
  const clock = { now: Date.UTC(2026, 11, 1, 0, 0) };
  const unlimited = { limit: 1_000_000, windowSeconds: 900 };
  const x = await startXApiSimulator({
    accountId: '1400000000000000001',
    now: () => clock.now,
    // A minute of X's clock passes in microseconds here: X's 15-minute windows would measure 429s instead.
    rateLimits: { 'GET /2/dm_events': unlimited, 'POST /2/dm_conversations/with/:participant_id/messages': unlimited },
  });
  const { server, port } = await listenOnLoopback(async (_req, res) => void res.writeHead(200).end());
  try {
    // X Activity API webhook: one dm.received delivery per DM.
    const at = new Date(clock.now).toISOString();
    x.webhooks.push({ id: '1900000000000000001', url: `http://127.0.0.1:${port}/webhooks/twitter`, valid: true, created_at: at });
    x.activitySubscriptions.push({ subscription_id: '1', event_type: 'dm.received', filter: { user_id: x.accountId }, webhook_id: '1900000000000000001', created_at: at, updated_at: at });
    for (let i = 0; i < dms; i++) await x.receiveDm({ senderId: person(i), username: 'bench', name: 'Bench', text: `mensagem ${i}` });
    const xaa = x.billing.usd();

    // Replies: the sender's X client, one DM per reply.
    x.reset();
    const client = createXClient(staticSecretSource({ ...x.credentials }), { baseUrl: x.url, now: () => clock.now });
    for (let i = 0; i < dms; i++) await client.sendDm(person(i), `resposta ${i}`);
    const replies = x.billing.usd();

    // Polling: a day with the DMs, then a day without (a few old DMs stay the newest events).
    x.reset();
    const busy = await pollingDay(x, clock, dms);
    if (busy.queued !== dms) throw new Error(`the poller queued ${busy.queued} of ${dms} DMs`);
    clock.now = Date.UTC(2026, 11, 3, 0, 0);
    const idle = await pollingDay(x, clock, 0);

    return {
      dms,
      // Account Activity deliveries carry no per-event price on X's pay-per-use list.
      inboundPer1000: { xaaWebhook: per1000(xaa, dms), aaaWebhook: 0, polling: per1000(busy.usd, dms) },
      repliesPer1000: per1000(replies, dms),
      pollingIdleDay: Math.round(idle.usd * 1000) / 1000,
      pollingIdleMonth: Math.round(idle.usd * 30 * 100) / 100,
      lookups: { busyDay: busy.lookups, idleDay: idle.lookups },
    };
  } finally {
    server.close();
    await x.close();
  }
}

