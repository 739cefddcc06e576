import type { ScheduledEvent } from 'aws-lambda';
import type { DmPollState } from '../../functions/core/dm-poll-state';
import type { DmEventsSource } from '../../functions/core/ports';
import { TransientError } from '../../functions/core/errors';
import type { LeaseStore } from '../../functions/core/lease';
import type { InboundMessage } from '../../functions/core/x-events';
import { createDmPollerHandler, type DmPollSummary } from '../../functions/dm-poller/handler';
import { testObservability } from '../support/observability';
import { fixtureBytes, lambdaContext } from '../support/x-fixtures';

const company = '1400000000000000001';
const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events' } as ScheduledEvent;
const fixturePage = () => JSON.parse(fixtureBytes('dm-events-page.json').toString('utf8'));
const NOW = Date.parse('2024-11-25T02:11:05.000Z');

function setup(pages: Array<unknown | Error>, opts: { queueFails?: boolean; maxPages?: number } = {}) {
  let state: DmPollState | undefined = { cursor: '1861000000000000499' };
  const queued: InboundMessage[] = [];
  const source: DmEventsSource = {
    page: async () => {
      const next = pages.shift() ?? { meta: { result_count: 0 } };
      if (next instanceof Error) throw next;
      return next;
    },
  };
  const leases: LeaseStore = { tryAcquire: async () => true, release: async () => undefined };
  const obs = testObservability();
  const handler = createDmPollerHandler({
    ...obs,
    source,
    queue: { send: async (m) => (opts.queueFails ? Promise.reject(new Error('SQS down')) : void queued.push(...m)) },
    state: { load: async () => state, save: async (s) => void (state = s) },
    leases,
    companyId: company,
    backfillMinutes: 0,
    maxPages: opts.maxPages,
    clock: () => NOW,
  });
  return { run: () => handler(scheduled, lambdaContext) as Promise<DmPollSummary>, obs, queued, state: () => state };
}

describe('dm-poller handler: what each run reports', () => {
  it('queues the fixture page\'s two DMs oldest first and counts the own DM, the join, the lag', async () => {
    const h = setup([fixturePage()]);
    expect(await h.run()).toEqual({ ran: true, failed: false, outcome: 'caught-up', pages: 2, queued: 2, skipped: 2, malformed: 0 });
    expect(h.queued.map((m) => m.eventId)).toEqual(['1861000000000000501', '1861000000000000503']);
    // Received when the poll read it (the poller's clock), sent when X says.
    expect(h.queued[1]).toMatchObject({ receivedAt: new Date(NOW).toISOString(), createdAt: '2024-11-25T02:10:05.000Z' });
    // XDmEventsRead: every event X returned, which X bills (issue 18 §5: the tenant's X budget alarm).
    expect(h.obs.published()).toEqual({ DmPollRuns: 1, DmPolled: 2, EchoDropped: 1, EventIgnored: 1, DmPollLag: 60, XDmEventsRead: 4 });
    // The next run reads on past the cursor through the last 10 minutes: these four are known there.
    expect(h.state()).toEqual({
      cursor: '1861000000000000503',
      overlapFromMs: NOW - 600_000,
      recent: ['1861000000000000503', '1861000000000000502', '1861000000000000501', '1861000000000000500'].map((id) => ({ id, atMs: expect.any(Number) })),
    });
  });

  it('counts a malformed event and still queues the rest', async () => {
    const page = fixturePage();
    page.data[0].created_at = 'not a date';
    const h = setup([page]);
    expect(await h.run()).toMatchObject({ queued: 1, malformed: 1 });
    expect(h.obs.published()).toMatchObject({ DmEventInvalid: 1, DmPolled: 1 });
  });

  it('a queue that refuses: EnqueueFailed and DmPollFailed, the cursor stays', async () => {
    const h = setup([fixturePage()], { queueFails: true });
    expect(await h.run()).toMatchObject({ ran: true, failed: true });
    expect(h.obs.published()).toMatchObject({ EnqueueFailed: 2, DmPollFailed: 1 });
    expect(h.state()).toEqual({ cursor: '1861000000000000499' });
  });

  it('a 429 is counted as such, not as a failed poll; the page budget running out is neither', async () => {
    const limited = setup([fixturePage(), new TransientError('X answered HTTP 429: rate limited', 429, NOW + 600_000)]);
    expect(await limited.run()).toMatchObject({ failed: false, outcome: 'interrupted', queued: 0 });
    // The skipped events are reported by the run that reaches the cursor, once.
    expect(limited.obs.published()).toEqual({ DmPollRuns: 1, DmPollRateLimited: 1, XDmEventsRead: 4 });
    expect(limited.state()).toMatchObject({ notBeforeMs: NOW + 600_000 });

    const budget = setup([fixturePage()], { maxPages: 1 });
    expect(await budget.run()).toMatchObject({ failed: false, outcome: 'interrupted' });
    expect(budget.obs.published().DmPollFailed).toBeUndefined();
  });
});
