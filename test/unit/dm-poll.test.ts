import { DM_POLL_OVERLAP_MS, pollDmEvents, type DmPollDeps } from '../../functions/core/dm-poll';
import type { DmPollState } from '../../functions/core/dm-poll-state';
import fc from 'fast-check';
import { PermanentError, TransientError } from '../../functions/core/errors';
import type { InboundMessage } from '../../functions/core/x-events';

const company = '1400000000000000001';
const T0 = Date.parse('2026-11-25T12:00:00.000Z');

/** X's DM history, newest first, served in pages of `size` like GET /2/dm_events. */
function fakeX(size = 3) {
  let seq = 1861000000000000000n;
  const events: Record<string, unknown>[] = [];
  const calls: (string | undefined)[] = [];
  const failures: Error[] = [];
  const sizes: number[] = [];
  const x = {
    calls,
    sizes,
    failures,
    dm(from: string, text: string, at: number) {
      // Gaps between ids leave room for DMs X shows late.
      seq += 10n;
      const id = String(seq);
      events.unshift({ id, event_type: 'MessageCreate', text, sender_id: from, dm_conversation_id: `${company}-${from}`, created_at: new Date(at).toISOString() });
      return id;
    },
    /** A DM X's lookup shows only now, though it was sent just before `beforeId`: an older id, in its place below newer DMs. */
    lateDm(from: string, text: string, at: number, beforeId: string) {
      const id = String(BigInt(beforeId) - 1n);
      const at_ = events.findIndex((e) => BigInt(e.id as string) < BigInt(id));
      events.splice(at_ === -1 ? events.length : at_, 0, { id, event_type: 'MessageCreate', text, sender_id: from, dm_conversation_id: `${company}-${from}`, created_at: new Date(at).toISOString() });
      return id;
    },
    source: {
      async page(token: string | undefined, maxResults: number): Promise<unknown> {
        calls.push(token);
        sizes.push(maxResults);
        const failure = failures.shift();
        if (failure) throw failure;
        const start = token ? events.findIndex((e) => BigInt(e.id as string) < BigInt(token)) : 0;
        const n = Math.min(size, maxResults);
        const data = start === -1 ? [] : events.slice(start, start + n);
        const more = start !== -1 && start + n < events.length;
        return { data, meta: { result_count: data.length, ...(more ? { next_token: data.at(-1)!.id } : {}) } };
      },
    },
  };
  return x;
}

function harness(x: ReturnType<typeof fakeX>, over: Partial<DmPollDeps> = {}) {
  let state: DmPollState | undefined;
  const queued: InboundMessage[] = [];
  let now = T0;
  const deps: DmPollDeps = {
    source: x.source,
    queue: { send: async (m) => void queued.push(...m) },
    state: { load: async () => state && { ...state }, save: async (s) => void (state = { ...s }) },
    companyId: company,
    backfillMinutes: 0,
    maxPages: 10,
    pageSizes: { first: 100, max: 100 },
    clock: () => now,
    ...over,
  };
  return {
    deps,
    queued,
    state: () => state,
    advance: (ms: number) => (now += ms),
    run: () => pollDmEvents(deps),
    texts: () => queued.map((m) => m.text),
  };
}

describe('DM poll run (cursor, order, catching up)', () => {
  it('first run without backfill: 30 days of history are not queued, the cursor starts at the newest event', async () => {
    const x = fakeX();
    for (let i = 0; i < 5; i++) x.dm('2900000000000000001', `old ${i}`, T0 - 86_400_000 + i);
    const newest = x.dm('2900000000000000002', 'old newest', T0 - 1000);
    const h = harness(x);
    const out = await h.run();
    expect(out).toMatchObject({ outcome: 'caught-up', pages: 1, queued: [] });
    // The overlap starts at the first run: what is older is history, never queued.
    expect(h.state()).toEqual({ cursor: newest, overlapFromMs: T0 });
  });

  it('starts small (X bills each event a lookup returns) and grows fourfold per page up to 100', async () => {
    const x = fakeX(1000);
    x.dm('2900000000000000001', 'history', T0 - 1000);
    const h = harness(x, { pageSizes: { first: 5, max: 100 } });
    await h.run();
    await h.run();
    expect(x.sizes).toEqual([5, 5]);
    for (let i = 0; i < 150; i++) x.dm('2900000000000000001', `m${i}`, T0 + i);
    x.sizes.length = 0;
    await h.run();
    expect(x.sizes).toEqual([5, 20, 80, 100]);
    expect(h.queued).toHaveLength(150);
  });

  it('first run with pollBackfillMinutes queues just that window, oldest first', async () => {
    const x = fakeX(2);
    x.dm('2900000000000000001', 'two hours ago', T0 - 7_200_000);
    x.dm('2900000000000000001', 'half an hour ago', T0 - 1_800_000);
    x.dm('2900000000000000002', 'ten minutes ago', T0 - 600_000);
    x.dm('2900000000000000001', 'a minute ago', T0 - 60_000);
    const h = harness(x, { backfillMinutes: 60 });
    await h.run();
    expect(h.texts()).toEqual(['half an hour ago', 'ten minutes ago', 'a minute ago']);
  });

  it('an account with no DMs yet: the DMs after the first run are all queued', async () => {
    const x = fakeX();
    const h = harness(x);
    await h.run();
    expect(h.state()).toEqual({ floorMs: T0 });
    h.advance(60_000);
    x.dm('2900000000000000001', 'primeira', T0 + 30_000);
    await h.run();
    expect(h.texts()).toEqual(['primeira']);
  });

  it('walks several pages down to the cursor and queues only the new DMs, oldest first, then moves the cursor', async () => {
    const x = fakeX(3);
    x.dm('2900000000000000001', 'history', T0 - 1000);
    const h = harness(x);
    await h.run();
    for (let i = 1; i <= 8; i++) x.dm(`290000000000000000${i % 3}`, `m${i}`, T0 + i);
    const out = await h.run();
    expect(out).toMatchObject({ outcome: 'caught-up', pages: 3 });
    expect(h.texts()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
    // Nothing new: one page, nothing queued twice.
    await h.run();
    expect(h.texts()).toHaveLength(8);
  });

  it('a 429 mid-walk queues nothing, waits for x-rate-limit-reset, then catches up with nothing lost and per-person order kept', async () => {
    const x = fakeX(2);
    x.dm('2900000000000000001', 'history', T0 - 1000);
    const h = harness(x);
    await h.run();
    for (let i = 1; i <= 7; i++) x.dm(i % 2 ? '2900000000000000001' : '2900000000000000002', `m${i}`, T0 + i);
    // Page 1 read, page 2 refused.
    const reset = T0 + 120_000;
    const origPage = x.source.page;
    let n = 0;
    x.source.page = async (t, s) => (++n === 2 ? Promise.reject(new TransientError('rate limited', 429, reset)) : origPage(t, s));
    const first = await h.run();
    expect(first).toMatchObject({ outcome: 'interrupted', pages: 1, queued: [] });
    expect(h.queued).toHaveLength(0);
    expect(h.state()!.notBeforeMs).toBe(reset);

    // Before the reset: X is not called at all.
    h.advance(60_000);
    const calls = x.calls.length;
    expect(await h.run()).toMatchObject({ outcome: 'rate-limited', notBeforeMs: reset });
    expect(x.calls.length).toBe(calls);

    // After it: the older part first, then the newer part on the next run.
    h.advance(61_000);
    await h.run();
    await h.run();
    expect(h.texts()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  });

  it('a backlog larger than one run\'s page budget is caught up over several runs, in order', async () => {
    const x = fakeX(2);
    x.dm('2900000000000000001', 'history', T0 - 1000);
    const h = harness(x, { maxPages: 2 });
    await h.run();
    for (let i = 1; i <= 11; i++) x.dm('2900000000000000001', `m${i}`, T0 + i);
    for (let run = 0; run < 8 && h.queued.length < 11; run++) await h.run();
    expect(h.texts()).toEqual(Array.from({ length: 11 }, (_, i) => `m${i + 1}`));
  });

  it('does not move the cursor when the queue refuses the DMs: the next run queues them again', async () => {
    const x = fakeX();
    x.dm('2900000000000000001', 'history', T0 - 1000);
    const h = harness(x);
    await h.run();
    const cursor = h.state()!.cursor;
    x.dm('2900000000000000001', 'nova', T0 + 1);
    const send = h.deps.queue.send;
    h.deps.queue.send = async () => Promise.reject(new Error('queue down'));
    await expect(h.run()).rejects.toThrow('queue down');
    expect(h.state()!.cursor).toBe(cursor);
    h.deps.queue.send = send;
    await h.run();
    expect(h.texts()).toEqual(['nova']);
  });

  it('an answer that is not a page stops the walk (it is not "the end"): nothing skipped for good', async () => {
    const x = fakeX(1);
    x.dm('2900000000000000001', 'history', T0 - 1000);
    const h = harness(x);
    await h.run();
    x.dm('2900000000000000001', 'a', T0 + 1);
    x.dm('2900000000000000001', 'b', T0 + 2);
    const origPage = x.source.page;
    let n = 0;
    x.source.page = async (t, s) => (++n === 2 ? { data: 'garbage' } : origPage(t, s));
    const out = await h.run();
    expect(out).toMatchObject({ outcome: 'interrupted', cause: expect.any(PermanentError) });
    x.source.page = origPage;
    await h.run();
    await h.run();
    expect(h.texts()).toEqual(['a', 'b']);
  });

  it('a DM X shows late (older id and created_at than the cursor) is queued exactly once on the next run, counted as late; re-reads queue nothing twice', async () => {
    const x = fakeX(1000);
    x.dm('2900000000000000001', 'history', T0 - 3_600_000);
    const h = harness(x, { pageSizes: { first: 5, max: 100 } });
    await h.run();
    h.advance(60_000);
    const a = x.dm('2900000000000000001', 'a', T0 + 30_000);
    const b = x.dm('2900000000000000002', 'b', T0 + 40_000);
    expect(await h.run()).toMatchObject({ outcome: 'caught-up', late: [] });
    expect(h.state()!.cursor).toBe(b);

    // X's lookup now shows a DM sent before b (and one sent before a), below the cursor.
    const lateB = x.lateDm('2900000000000000003', 'late b', T0 + 35_000, b);
    const lateA = x.lateDm('2900000000000000001', 'late a', T0 + 20_000, a);
    h.advance(60_000);
    const out = await h.run();
    expect(out).toMatchObject({ outcome: 'caught-up', pages: 1, late: [lateB, lateA] });
    expect(h.texts()).toEqual(['a', 'b', 'late a', 'late b']);
    expect(h.state()!.cursor).toBe(b);

    // Re-read every minute while in the overlap: nothing queued twice, one request each.
    x.sizes.length = 0;
    for (let i = 0; i < 5; i++) {
      h.advance(60_000);
      expect(await h.run()).toMatchObject({ queued: [], late: [] });
    }
    expect(x.sizes).toEqual([9, 9, 9, 9, 9]);
    expect(h.texts()).toEqual(['a', 'b', 'late a', 'late b']);
  });

  it('the overlap is bounded: 10 minutes back from the last read, and no more events than fit in the first page (95 of 100)', async () => {
    const x = fakeX(1000);
    x.dm('2900000000000000001', 'history', T0 - 3_600_000);
    const h = harness(x, { pageSizes: { first: 5, max: 100 } });
    await h.run();
    const ids = Array.from({ length: 200 }, (_, i) => x.dm(`290000000000000000${i % 3}`, `m${i}`, T0 + i));
    h.advance(60_000);
    await h.run();
    expect(h.queued).toHaveLength(200);
    expect(h.state()!.recent).toHaveLength(95);

    // An idle poll reads the overlap in its one request of 100: 95 events below the cursor, no further.
    const shallow = x.lateDm('2900000000000000009', 'late, 11th below the cursor', T0 + 189, ids[189]!);
    const deep = x.lateDm('2900000000000000009', 'late, 101st below the cursor', T0 + 99, ids[99]!);
    x.sizes.length = 0;
    h.advance(60_000);
    expect(await h.run()).toMatchObject({ late: [shallow] });
    expect(x.sizes).toEqual([100]);
    expect(h.queued.map((m) => m.eventId)).not.toContain(deep);

    // Ten minutes after the last DM the overlap is empty: an idle poll is back to its 5 events, and a
    // DM shown later than that is not read.
    expect(DM_POLL_OVERLAP_MS).toBe(10 * 60_000);
    h.advance(DM_POLL_OVERLAP_MS + 60_000);
    await h.run();
    x.sizes.length = 0;
    const tooLate = x.lateDm('2900000000000000009', 'shown 13 minutes late', T0 + 199, ids[199]!);
    h.advance(60_000);
    expect(await h.run()).toMatchObject({ queued: [], late: [] });
    expect(x.sizes).toEqual([5]);
    expect(h.queued.map((m) => m.eventId)).not.toContain(tooLate);
  });

  it('whatever the backlog, page size, page budget, 429s and DMs arriving between runs: every DM queued once, each person in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.record({ arrivals: fc.integer({ min: 0, max: 6 }), fail429: fc.boolean() }), { minLength: 1, maxLength: 12 }),
        async (backlog, size, maxPages, runs) => {
          const x = fakeX(100);
          x.dm('2900000000000000001', 'history', T0 - 1000);
          // Walks from the top grow 1, 4, 16… up to `size`; walks from a resume point read `size`.
          const h = harness(x, { maxPages, pageSizes: { first: 1, max: size } });
          await h.run();
          const sent: string[] = [];
          let n = 0;
          const send = (k: number) => {
            for (let i = 0; i < k; i++) sent.push(x.dm(`290000000000000000${n % 3}`, `m${n++}`, T0 + n));
          };
          send(backlog);
          for (const run of runs) {
            send(run.arrivals);
            if (run.fail429) x.failures.push(new TransientError('429', 429, 0));
            h.advance(60_000);
            await h.run();
          }
          // Quiet runs afterwards: the poller catches up.
          for (let i = 0; i < 200 && h.queued.length < sent.length; i++) {
            h.advance(60_000);
            await h.run();
          }
          expect(h.queued.map((m) => m.eventId)).toEqual(sent);
        },
      ),
      { numRuns: 150 },
    );
  });
});
