import FakeTimers from '@sinonjs/fake-timers';
import type { Context, ScheduledEvent } from 'aws-lambda';
import type { Conversation } from '../functions/core/conversation';
import { DEFAULT_POLL_POLICY, type Idleness, type PollPolicy } from '../functions/core/poll-schedule';
import type { FourbizOccurrence } from '../functions/core/ports';
import { createPollerHandler, pollBudgetMs, type PollSummary } from '../functions/poller/handler';
import { pollerTimeoutSeconds, ticketsSettingsSchema } from '../functions/config';
import { memoryPollMarks, memoryStore } from '../test/support/memory-store';
import { testObservability } from '../test/support/observability';
import { lambdaContext } from '../test/support/x-fixtures';
import { summarise, type Summary } from './stats';

/**
 * A poll cycle of tickets mode: the real poller handler (schedule, time budget, marks, reply
 * planning) over 1,500 open requests, against an in-process 4biz that takes 200 ms per call, on
 * a virtual clock (@sinonjs/fake-timers), so hours of runs once a minute take seconds. Runs use
 * the tenant defaults: a run a minute, 50 s timeout, a budget of 30 s (timeoutMs 5 s), 5
 * conversations at a time. The active conversations keep talking (a DM every few minutes) and
 * agents answer at random on requests of every kind (3 a minute); measured over the last three of
 * four hours (the first hour settles the schedule from empty marks).
 */
/** One mix of open requests, measured over the last three of four hours of runs. */
interface PollScenario {
  mix: Record<Idleness, number>;
  /** 4biz calls per run and per hour, and the run's length (virtual seconds). */
  callsPerRun: Summary;
  callsPerHour: number;
  runSeconds: Summary;
  deferredPerRun: Summary;
  /** Longest time between two polls of one conversation, by kind (seconds). */
  longestGapSeconds: Record<Idleness, number>;
  /** From an agent's answer in 4biz to its queueing for X, by kind of conversation (seconds). */
  answerWaitSeconds: Record<Idleness, Summary>;
}

export interface PollCycle {
  openRequests: number;
  callMs: number;
  budgetMs: number;
  /** An ordinary day (100 active), and a busy one (500 active). */
  typical: PollScenario;
  busy: PollScenario;
  /** The same 1,500 requests, every one polled every run (the poller before the schedule). */
  everyRun: { callsPerRun: number; runSeconds: number; overTimeout: number };
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events' } as ScheduledEvent;

function conversations(start: number, mix: Record<Idleness, number>): Conversation[] {
  const quietFor: Record<Idleness, (i: number) => number> = {
    active: (i) => (i % 30) * MIN,
    // Idle ones stay idle through the three hours (under 24 h quiet at the end).
    idle: (i) => HOUR + (i % 19) * HOUR + (i % 60) * 1000,
    dormant: (i) => 25 * HOUR + (i % 29) * 24 * HOUR,
  };
  return (Object.keys(mix) as Idleness[]).flatMap((kind) =>
    Array.from({ length: mix[kind] }, (_, i) => ({
      xUserId: `${kind}${i}`,
      conversationId: `${kind}${i}-1`,
      status: 'OPEN' as const,
      openedAt: new Date(start - 40 * 24 * HOUR).toISOString(),
      lastActivityAt: new Date(start - quietFor[kind](i)).toISOString(),
      messagesIn: 1,
      messagesOut: 0,
      requestNumber: `${kind}${i}`,
      version: 1,
    })),
  );
}

async function simulate(opts: { mix: Record<Idleness, number>; callMs: number; hours: number; policy?: PollPolicy; budgetMs: number; leaseSeconds: number }) {
  const clock = FakeTimers.createClock(Date.parse('2026-12-02T08:00:00.000Z'));
  const start = clock.now;
  const open = conversations(start, opts.mix);
  const kindOf = new Map(open.map((c) => [c.requestNumber!, c.xUserId.replace(/\d+$/, '') as Idleness]));
  const store = memoryStore(open);
  const occurrences = new Map<string, FourbizOccurrence[]>();
  const answeredAt = new Map<string, number>();
  const lastPoll = new Map<string, number>();
  const gaps: Record<Idleness, number> = { active: 0, idle: 0, dormant: 0 };
  const waits: Record<Idleness, number[]> = { active: [], idle: [], dormant: [] };
  const measuring = () => clock.now - start >= HOUR;
  let calls = 0;
  const slow = () => new Promise<void>((resolve) => clock.setTimeout(resolve, opts.callMs));
  const handler = createPollerHandler({
    ...testObservability('bench'),
    store,
    marks: memoryPollMarks(),
    leases: { tryAcquire: async () => true, release: async () => undefined },
    leaseSeconds: opts.leaseSeconds,
    budgetMs: opts.budgetMs,
    policy: opts.policy,
    clock: () => clock.now,
    queue: {
      send: async (messages) => {
        for (const m of messages) {
          const at = answeredAt.get(m.sourceId);
          if (at !== undefined && at >= start + HOUR) waits[kindOf.get(m.requestNumber)!].push((clock.now - at) / 1000);
        }
      },
    },
    fourbiz: {
      async getRequest(n) {
        calls++;
        await slow();
        return { number: n, status: 'Em andamento', finished: false };
      },
      async listOccurrences(n) {
        calls++;
        const previous = lastPoll.get(n);
        if (previous !== undefined && measuring()) gaps[kindOf.get(n)!] = Math.max(gaps[kindOf.get(n)!], (clock.now - previous) / 1000);
        lastPoll.set(n, clock.now);
        await slow();
        return occurrences.get(n) ?? [];
      },
    },
  });
  const perRun: { calls: number; seconds: number; deferred: number }[] = [];
  let answers = 0;
  for (let minute = 0; minute < opts.hours * 60; minute++) {
    // The active ones keep talking: a DM every few minutes keeps each within the hour.
    for (const c of store.conversations.values()) {
      if (kindOf.get(c.requestNumber!) === 'active' && minute % 5 === Number(c.xUserId.slice(6)) % 5) c.lastActivityAt = new Date(clock.now).toISOString();
    }
    // Agents answer now and then, on requests of every kind: 3 answers a minute, at any second of it.
    for (let k = 0; k < 3; k++) {
      const c = open[(minute * 7 + k * 499) % open.length];
      clock.setTimeout(() => {
        const id = String(++answers);
        answeredAt.set(id, clock.now);
        occurrences.set(c.requestNumber!, [...(occurrences.get(c.requestNumber!) ?? []), { id, description: `resposta ${id}`, byIntegrationUser: false, category: 'Acompanhamento' }]);
      }, (minute * 7_919 + k * 20_011) % MIN);
    }
    const before = calls;
    const runStart = clock.now;
    let summary: PollSummary | undefined;
    const run = (handler(scheduled, lambdaContext as Context) as Promise<PollSummary>).then((s) => {
      summary = s;
      return clock.now;
    });
    await clock.tickAsync(MIN - 1);
    const ended = await run;
    if (!summary) throw new Error('a run did not end within its minute');
    if (measuring()) perRun.push({ calls: calls - before, seconds: (ended - runStart) / 1000, deferred: summary.deferred });
    await clock.tickAsync(start + (minute + 1) * MIN - clock.now);
  }
  return { perRun, gaps, waits };
}

export async function measurePollCycle(): Promise<PollCycle> {
  const callMs = 200;
  const settings = ticketsSettingsSchema.parse({ mode: 'tickets', baseUrl: 'https://empresa.4biz.one/4biz' });
  const leaseSeconds = pollerTimeoutSeconds(settings);
  const budgetMs = pollBudgetMs(settings);
  const round1 = (x: number) => Math.round(x * 10) / 10;
  const scenario = async (mix: Record<Idleness, number>): Promise<PollScenario> => {
    const { perRun, gaps, waits } = await simulate({ mix, callMs, hours: 4, budgetMs, leaseSeconds });
    return {
      mix,
      callsPerRun: summarise(perRun.map((r) => r.calls)),
      callsPerHour: Math.round((perRun.reduce((sum, r) => sum + r.calls, 0) / perRun.length) * 60),
      runSeconds: summarise(perRun.map((r) => r.seconds)),
      deferredPerRun: summarise(perRun.map((r) => r.deferred)),
      longestGapSeconds: { active: round1(gaps.active), idle: round1(gaps.idle), dormant: round1(gaps.dormant) },
      answerWaitSeconds: { active: summarise(waits.active), idle: summarise(waits.idle), dormant: summarise(waits.dormant) },
    };
  };
  const typical = await scenario({ active: 100, idle: 400, dormant: 1_000 });
  const busy = await scenario({ active: 500, idle: 500, dormant: 500 });
  // The poller before the schedule: every open request on every run, no budget (one run measured).
  const all: PollPolicy = { ...DEFAULT_POLL_POLICY, activeWithinMs: Number.MAX_SAFE_INTEGER };
  const everyRun = await simulateOneFullRun({ mix: typical.mix, callMs, policy: all, leaseSeconds });
  return { openRequests: 1_500, callMs, budgetMs, typical, busy, everyRun: { ...everyRun, overTimeout: round1(everyRun.runSeconds / leaseSeconds) } };
}

/** One run that polls every open request (no schedule, no budget): its calls and length. */
async function simulateOneFullRun(opts: { mix: Record<Idleness, number>; callMs: number; policy: PollPolicy; leaseSeconds: number }) {
  const clock = FakeTimers.createClock(Date.parse('2026-12-02T08:00:00.000Z'));
  let calls = 0;
  const slow = async <T>(value: T) => {
    calls++;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, opts.callMs));
    return value;
  };
  const handler = createPollerHandler({
    ...testObservability('bench'),
    store: memoryStore(conversations(clock.now, opts.mix)),
    marks: memoryPollMarks(),
    leases: { tryAcquire: async () => true, release: async () => undefined },
    leaseSeconds: opts.leaseSeconds,
    budgetMs: Number.MAX_SAFE_INTEGER,
    policy: opts.policy,
    clock: () => clock.now,
    queue: { send: async () => undefined },
    fourbiz: { getRequest: (n) => slow({ number: n, status: 'Em andamento', finished: false }), listOccurrences: () => slow([]) },
  });
  const start = clock.now;
  let end: number | undefined;
  const run = (handler(scheduled, lambdaContext as Context) as Promise<PollSummary>).then(() => (end = clock.now));
  while (end === undefined) await clock.tickAsync(10_000);
  await run;
  return { callsPerRun: calls, runSeconds: (end - start) / 1000 };
}

/** The section's tables, as `npm run bench` and `npm run bench -- poll-cycle` print them. */
export function printPollCycle(r: PollCycle): void {
  console.log(
    `\npoll cycle (tickets mode): ${r.openRequests} open requests, 4biz at ${r.callMs} ms a call, a run a minute with a ${r.budgetMs / 1000} s budget, 5 requests at a time; ` +
      'the real poller handler on a virtual clock, the last 3 of 4 hours; active: a DM within the hour, idle: 1-24 h quiet, dormant: longer; — : not seen',
  );
  const kinds: Idleness[] = ['active', 'idle', 'dormant'];
  const row = (s: PollScenario) => ({
    'calls/run p50': s.callsPerRun.p50,
    'calls/run max': s.callsPerRun.max,
    'calls/hour': s.callsPerHour,
    'run s max': s.runSeconds.max,
    'left to next run max': s.deferredPerRun.max,
    'longest gap s (active/idle/dormant)': kinds.map((k) => s.longestGapSeconds[k] || '—').join(' / '),
    'answer wait max s (active/idle/dormant)': kinds.map((k) => (s.answerWaitSeconds[k].n > 0 ? Math.round(s.answerWaitSeconds[k].max) : '—')).join(' / '),
  });
  const name = (s: PollScenario) => `${s.mix.active} active, ${s.mix.idle} idle, ${s.mix.dormant} dormant`;
  console.table({ [name(r.typical)]: row(r.typical), [name(r.busy)]: row(r.busy) });
  console.log(`every request on every run (the poller before the schedule): ${r.everyRun.callsPerRun} calls, ${r.everyRun.runSeconds} s a run, ${r.everyRun.overTimeout}× the 50 s timeout`);
}
