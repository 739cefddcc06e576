import type { ScheduledEvent } from 'aws-lambda';
import type { Conversation } from '../../functions/core/conversation';
import type { OutboundMessage } from '../../functions/core/outbound-message';
import type { FourbizOccurrence } from '../../functions/core/ports';
import { createPollerHandler, type PollSummary } from '../../functions/poller/handler';
import { memoryPollMarks, memoryStore } from '../support/memory-store';
import { testObservability } from '../support/observability';
import { lambdaContext } from '../support/x-fixtures';

const START = Date.parse('2026-12-02T12:00:00.000Z');
const MIN = 60_000;

const open = (id: string, quietMinutes: number): Conversation => ({
  xUserId: id,
  conversationId: `${id}-1`,
  status: 'OPEN',
  openedAt: '2026-11-01T00:00:00.000Z',
  lastActivityAt: new Date(START - quietMinutes * MIN).toISOString(),
  messagesIn: 1,
  messagesOut: 0,
  requestNumber: `R${id}`,
  version: 1,
});

/**
 * The poller against a 4biz whose every call takes 200 ms of a virtual clock (one conversation at
 * a time), run once a minute like its schedule.
 */
function world(conversations: Conversation[], opts: { budgetMs?: number } = {}) {
  let now = START;
  const store = memoryStore(conversations);
  const marks = memoryPollMarks();
  const calls: Array<{ path: string; request: string; at: number }> = [];
  const occurrences = new Map<string, FourbizOccurrence[]>();
  const queued: OutboundMessage[] = [];
  const obs = testObservability();
  const call = (path: string, request: string) => {
    calls.push({ path, request, at: now });
    now += 200;
  };
  const handler = createPollerHandler({
    ...obs,
    store,
    marks,
    leases: { tryAcquire: async () => true, release: async () => undefined },
    leaseSeconds: 50,
    budgetMs: opts.budgetMs ?? 30_000,
    concurrency: 1,
    clock: () => now,
    queue: { send: async (m) => void queued.push(...m) },
    fourbiz: {
      async getRequest(n) {
        call('getById', n);
        return { number: n, status: 'Em andamento', finished: false };
      },
      async listOccurrences(n) {
        call('listOccurrences', n);
        return occurrences.get(n) ?? [];
      },
    },
  });
  return {
    calls,
    queued,
    obs,
    marks,
    answer: (request: string, id: string, text: string) => occurrences.set(request, [...(occurrences.get(request) ?? []), { id, description: text, byIntegrationUser: false, category: 'Acompanhamento' }]),
    /** One scheduled run at the next whole minute. */
    async run(): Promise<PollSummary> {
      now = START + Math.ceil((now - START) / MIN) * MIN;
      const out = (await handler({} as ScheduledEvent, lambdaContext)) as PollSummary;
      now += 1;
      return out;
    },
    polledIn: (from: number) => [...new Set(calls.slice(from).map((c) => c.request))],
  };
}

describe('poller schedule (tickets mode)', () => {
  it('stops starting polls at its time budget and the next run resumes with the conversations it left, until each was polled', async () => {
    const w = world(Array.from({ length: 10 }, (_, i) => open(String(i), 5)), { budgetMs: 1_000 });
    const seen: string[][] = [];
    for (let run = 0; run < 4; run++) {
      const from = w.calls.length;
      const summary = await w.run();
      seen.push(w.polledIn(from));
      expect(summary).toMatchObject({ due: 10, polled: 3, deferred: 7 });
    }
    // Each run: 3 polls of 400 ms fit in 1 s; never-polled conversations before those just polled.
    expect(seen.slice(0, 3).flat().sort()).toEqual(['R0', 'R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8'].sort());
    expect(seen[3][0]).toBe('R9');
    expect(w.obs.published()).toMatchObject({ PollsDeferred: 4 * 7 });
  });

  it('polls active conversations before idle and dormant ones when time is short', async () => {
    const w = world([open('d1', 3000), open('i1', 120), open('a1', 1), open('d2', 3000), open('a2', 30), open('a3', 59)], { budgetMs: 1_500 });
    const summary = await w.run();
    expect(summary).toMatchObject({ conversations: 6, due: 6, polled: 4, deferred: 2 });
    expect(w.polledIn(0).slice(0, 3).sort()).toEqual(['Ra1', 'Ra2', 'Ra3']);
    // The next run: the active ones again (every run), then the two left over.
    const from = w.calls.length;
    expect(await w.run()).toMatchObject({ due: 5, polled: 4, deferred: 1 });
    expect(w.polledIn(from).slice(0, 3).sort()).toEqual(['Ra1', 'Ra2', 'Ra3']);
  });

  it('polls an active conversation every run, an idle one every 10 minutes, a dormant one every hour, and reports the active wait', async () => {
    const w = world([open('a', 0), open('i', 180), open('d', 3 * 24 * 60)]);
    for (let minute = 0; minute <= 60; minute++) await w.run();
    const minutesOf = (r: string) => [...new Set(w.calls.filter((c) => c.request === r).map((c) => Math.floor((c.at - START) / MIN)))];
    expect(minutesOf('Ra')).toHaveLength(61);
    expect(minutesOf('Ri')).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(minutesOf('Rd')).toEqual([0, 60]);
    // Two calls a poll (status, then occurrences): 61 + 7 + 2 polls.
    expect(w.calls).toHaveLength(2 * (61 + 7 + 2));
    expect(w.obs.published().ActivePollWaitSeconds).toBeGreaterThan(0);
  });

  it('still reaches an idle conversation, within about twice its interval, when active ones alone would fill every run', async () => {
    // Three polls fit in a run; four active conversations want a poll every run.
    const w = world([open('a1', 0), open('a2', 0), open('a3', 0), open('a4', 0), open('i', 180)], { budgetMs: 1_000 });
    w.answer('Ri', '900', 'Resposta no pedido parado');
    for (let minute = 0; minute <= 45; minute++) await w.run();
    const polls = [...new Set(w.calls.filter((c) => c.request === 'Ri').map((c) => Math.floor((c.at - START) / MIN)))];
    expect(polls.length).toBeGreaterThanOrEqual(2);
    for (let k = 1; k < polls.length; k++) expect(polls[k] - polls[k - 1]).toBeLessThanOrEqual(21);
    expect(polls[0]).toBeLessThanOrEqual(21);
    expect(w.queued.map((m) => m.text)).toEqual(['Resposta no pedido parado']);
  });

  it('loses nothing on a dormant request: an answer written there is sent at its next poll, within the hour', async () => {
    const w = world([open('d', 3 * 24 * 60)]);
    await w.run();
    w.answer('Rd', '501', 'Olá! Seu pedido foi atendido.');
    for (let minute = 1; minute < 60; minute++) await w.run();
    expect(w.queued).toEqual([]);
    await w.run();
    expect(w.queued.map((m) => m.text)).toEqual(['Olá! Seu pedido foi atendido.']);
    // And only once.
    for (let minute = 0; minute < 61; minute++) await w.run();
    expect(w.queued).toHaveLength(1);
  });

  it('keeps its marks across runs in the store, so a new instance resumes the schedule', async () => {
    const w = world([open('d', 3 * 24 * 60)]);
    await w.run();
    expect(w.marks.marks).toEqual({ 'd-1': START });
  });
});

describe('poller: an answer written just before the request is resolved', () => {
  it('is read after the status, so it is sent before the closing message and not lost', async () => {
    const store = memoryStore([open('1', 1)]);
    const list: FourbizOccurrence[] = [];
    let finished = false;
    const queued: OutboundMessage[] = [];
    const handler = createPollerHandler({
      ...testObservability(),
      store,
      marks: memoryPollMarks(),
      leases: { tryAcquire: async () => true, release: async () => undefined },
      leaseSeconds: 50,
      closingMessage: 'Fim {number}.',
      queue: { send: async (m) => void queued.push(...m) },
      fourbiz: {
        async getRequest(n) {
          // The agent answers, then resolves, while 4biz is working on this call.
          await new Promise((r) => setTimeout(r, 20));
          list.push({ id: '77', description: 'Última resposta', byIntegrationUser: false, category: 'Retorno' });
          finished = true;
          return { number: n, status: 'Resolvida', finished };
        },
        listOccurrences: async () => [...list],
      },
    });
    await handler({} as ScheduledEvent, lambdaContext);
    expect(queued.map((m) => m.text)).toEqual(['Última resposta', 'Fim R1.']);
  });
});

describe('poller: a poll that failed', () => {
  it('stays due, so an idle conversation is tried again on the next run, not ten minutes later', async () => {
    const store = memoryStore([open('i', 180)]);
    const marks = memoryPollMarks();
    let failures = 1;
    let calls = 0;
    const handler = createPollerHandler({
      ...testObservability(),
      store,
      marks,
      leases: { tryAcquire: async () => true, release: async () => undefined },
      leaseSeconds: 50,
      clock: () => START + calls * MIN,
      queue: { send: async () => undefined },
      fourbiz: {
        async getRequest(n) {
          calls++;
          if (failures-- > 0) throw new Error('4biz /services/request/getById: no answer within 5000 ms');
          return { number: n, status: 'Em andamento', finished: false };
        },
        listOccurrences: async () => [],
      },
    });
    expect(await handler({} as ScheduledEvent, lambdaContext)).toMatchObject({ polled: 1, failed: 1 });
    expect(marks.marks).toEqual({});
    expect(await handler({} as ScheduledEvent, lambdaContext)).toMatchObject({ polled: 1, failed: 0 });
    expect(marks.marks).toEqual({ 'i-1': START + MIN });
  });
});
