import { SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduledEvent } from 'aws-lambda';
import { sqsInboundQueue } from '../functions/adapters/inbound-queue';
import { staticSecretSource } from '../functions/adapters/secrets';
import { createDmEventsSource } from '../functions/adapters/x-dm-events';
import { readDmEventsPage } from '../functions/core/dm-events';
import type { DmPollState } from '../functions/core/dm-poll-state';
import type { LeaseStore } from '../functions/core/lease';
import { createDmPollerHandler, type DmPollSummary } from '../functions/dm-poller/handler';
import { startXApiSimulator } from '../simulators/x';
import { createTestQueuePair } from '../test/support/aws';
import { testObservability } from '../test/support/observability';
import { lambdaContext } from '../test/support/x-fixtures';
import { round, summarise, type Summary } from './stats';

/**
 * The dm-poller's in-process cost per page: the real handler (lease, lookup through twitter-api-v2
 * with OAuth 1.0a signing, page validation and conversion, SendMessageBatch to fauxqs) against the
 * X simulator on loopback. The cursor and lease live in memory here (DynamoDB Local would measure
 * a JVM); on Lambda they are two or three single-item DynamoDB calls per run. Alongside: the parts
 * alone — the lookup HTTP call, converting a 100-event page, enqueueing 100 DMs.
 */
export interface DmPollerCost {
  /** Runs that found 100 new DMs each (full pages of 100), per page read. */
  perPageMs: Summary;
  pagesPerRun: number;
  /** A run with nothing new: one lookup of 5 events. */
  idleRunMs: Summary;
  lookupOnlyMs: Summary;
  convertPageOf100Ms: Summary;
  enqueue100Ms: Summary;
  dmsQueued: number;
}

const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events' } as ScheduledEvent;

export async function measureDmPoller(sqsEndpoint: string, runs = 30): Promise<DmPollerCost> {
  // Hundreds of lookups in a few seconds: X's 15 per 15 minutes would measure the 429 path instead.
  const x = await startXApiSimulator({ accountId: '1400000000000000001', rateLimits: { 'GET /2/dm_events': { limit: 100_000, windowSeconds: 900 } } });
  const sqs = new SQSClient({ endpoint: sqsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  try {
    const { queueUrl } = await createTestQueuePair(sqs, 'bench-dm-poll');
    const queue = sqsInboundQueue(sqs, queueUrl);
    const secrets = staticSecretSource({ ...x.credentials });
    const source = createDmEventsSource(secrets, { baseUrl: x.url });
    let state: DmPollState | undefined;
    const leases: LeaseStore = { tryAcquire: async () => true, release: async () => undefined };
    const obs = testObservability('bench');
    const handler = (pageSizes?: { first: number; max: number }) =>
      createDmPollerHandler({
        ...obs,
        source,
        queue,
        state: { load: async () => state, save: async (s) => void (state = s) },
        leases,
        companyId: x.accountId,
        backfillMinutes: 0,
        maxPages: 15,
        pageSizes,
      });
    const fullPages = handler({ first: 100, max: 100 });
    const production = handler();
    let sender = 0;
    const addDms = (n: number) => {
      for (let i = 0; i < n; i++) x.addDmEvent({ senderId: String(2900000000000000000n + BigInt(sender++ % 50)), username: 'bench', name: 'Bench', text: `mensagem ${i} https://t.co/b${i}`, urls: [{ url: `https://t.co/b${i}`, expandedUrl: `https://example.com/${i}` }] });
    };

    addDms(10);
    await production(scheduled, lambdaContext); // first run: cursor at the newest event
    for (let i = 0; i < 5; i++) await production(scheduled, lambdaContext); // warm-up

    const idle: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const out = (await production(scheduled, lambdaContext)) as DmPollSummary;
      idle.push(performance.now() - t);
      if (!out.ran || out.queued !== 0) throw new Error('an idle run queued DMs');
    }

    const perPage: number[] = [];
    let pages = 0;
    let queued = 0;
    for (let i = 0; i < runs; i++) {
      addDms(100);
      const t = performance.now();
      const out = (await fullPages(scheduled, lambdaContext)) as DmPollSummary;
      const ms = performance.now() - t;
      if (!out.ran || out.queued !== 100 || out.outcome !== 'caught-up') throw new Error(`a run did not queue its 100 DMs: ${JSON.stringify(out)}`);
      perPage.push(ms / out.pages);
      pages += out.pages;
      queued += out.queued;
    }

    const lookup: number[] = [];
    const convert: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const page = await source.page(undefined, 100);
      lookup.push(performance.now() - t);
      const c = performance.now();
      readDmEventsPage(page, x.accountId);
      convert.push(performance.now() - c);
    }
    const messages = readDmEventsPage(await source.page(undefined, 100), x.accountId).events.flatMap((e) => (e.kind === 'message' ? [e.message] : []));
    const enqueue: number[] = [];
    for (let i = 0; i < runs; i++) {
      const batch = messages.map((m) => ({ ...m, eventId: `${m.eventId}${i}` }));
      const t = performance.now();
      await queue.send(batch);
      enqueue.push(performance.now() - t);
    }

    return {
      perPageMs: summarise(perPage),
      pagesPerRun: round(pages / runs, 2),
      idleRunMs: summarise(idle),
      lookupOnlyMs: summarise(lookup),
      convertPageOf100Ms: summarise(convert),
      enqueue100Ms: summarise(enqueue),
      dmsQueued: queued,
    };
  } finally {
    sqs.destroy();
    await x.close();
  }
}
