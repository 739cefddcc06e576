import type { WebhookHealthStore } from '../../functions/core/ports';
import { checkWebhookHealth, MAX_REPLAYS_PER_DAY } from '../../functions/core/webhook-health';
import type { WebhookHealthState } from '../../functions/core/webhook-health-state';
import { replayDate, replayWindow, type ReplayWindow, type XWebhook } from '../../functions/core/x-webhook-api';
import { expectInsideXRules, replayDateMs } from '../support/replay-rules';
import { createWebhookHealthHandler } from '../../functions/webhook-health/handler';
import { staticSecretSource } from '../../functions/adapters/secrets';
import { testObservability } from '../support/observability';
import { lambdaContext, testSecret } from '../support/x-fixtures';

const URL = 'https://bridge.example/webhooks/twitter';
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 25, 8, 0, 30);

/** X as the health check sees it: a webhook whose valid flag and re-validation verdicts the test sets. */
function fakeX(opts: { valid?: boolean; revalidates?: boolean[]; replayFails?: number } = {}) {
  const webhook: XWebhook = { id: '1861', url: URL, valid: opts.valid ?? true, created_at: '2026-11-01T00:00:00.000Z' };
  const verdicts = [...(opts.revalidates ?? [])];
  let replayFails = opts.replayFails ?? 0;
  const replays: ReplayWindow[] = [];
  const calls: string[] = [];
  return {
    webhook,
    replays,
    calls,
    api: {
      async listWebhooks() {
        calls.push('list');
        return [{ ...webhook }];
      },
      async validateWebhook() {
        calls.push('validate');
        webhook.valid = verdicts.shift() ?? false;
        return webhook.valid;
      },
      async replay(_id: string, window: ReplayWindow) {
        calls.push('replay');
        if (replayFails-- > 0) throw new Error('ReplayConflictError');
        replays.push(window);
        return { jobId: `job-${replays.length}`, createdAt: new Date().toISOString() };
      },
    },
  };
}

function memoryStore(initial?: WebhookHealthState) {
  let state = initial;
  const store: WebhookHealthStore = { get: async () => state, put: async (s) => void (state = s), refusals: async () => undefined, clearRefusals: async () => undefined };
  return { store, state: () => state };
}

describe('webhook health (core)', () => {
  const ok = async () => ({ ok: true, message: 'OK' });
  const down = async () => ({ ok: false, message: 'FAILED: HTTP 502' });

  it('records a valid, answering webhook as good and asks X for nothing else', async () => {
    const x = fakeX();
    const s = memoryStore();
    const health = await checkWebhookHealth({ x: x.api, store: s.store, probe: ok, webhookUrl: URL, now: () => T0 });
    expect(health).toMatchObject({ status: 'healthy', revalidated: false });
    expect(x.calls).toEqual(['list']);
    expect(s.state()).toEqual({ lastGoodAt: T0, failedRevalidations: 0, gapFrom: undefined });
  });

  const run = (x: ReturnType<typeof fakeX>, s: ReturnType<typeof memoryStore>, at: number, probe = ok) =>
    checkWebhookHealth({ x: x.api, store: s.store, probe, webhookUrl: URL, now: () => at });

  it('invalid → re-validation fails (alarm) → re-validated → once the gap is old enough for X, one replay from the last good time to the re-validation', async () => {
    const x = fakeX({ revalidates: [false, true] });
    const s = memoryStore({ lastGoodAt: T0, failedRevalidations: 0 });
    x.webhook.valid = false;

    const first = await run(x, s, T0 + 15 * MIN);
    expect(first).toMatchObject({ status: 'invalid', failedRevalidations: 1, since: T0 });
    expect(s.state()).toMatchObject({ lastGoodAt: T0, gapFrom: T0, failedRevalidations: 1 });

    // Re-validated at 08:30: the gap (08:00–08:30) is younger than X's 31 minutes: held, not lost.
    const second = await run(x, s, T0 + 30 * MIN);
    expect(second).toMatchObject({ status: 'healthy', revalidated: true, replayHeld: expect.stringContaining('31 minutes') });
    expect(x.replays).toEqual([]);
    expect(s.state()).toMatchObject({ lastGoodAt: T0 + 30 * MIN, gapFrom: T0, gapTo: T0 + 30 * MIN, failedRevalidations: 0 });

    const third = await run(x, s, T0 + 45 * MIN);
    expect(third).toMatchObject({ status: 'healthy', revalidated: false, replay: { jobId: 'job-1' } });
    expect(x.replays).toEqual([{ fromDate: '202611250800', toDate: '202611250831' }]);
    expectInsideXRules(x.replays[0]!, T0 + 45 * MIN);
    expect(s.state()).toMatchObject({ gapFrom: undefined, gapTo: undefined, lastReplay: { jobId: 'job-1', fromDate: '202611250800' }, replays: { day: '2026-11-25', count: 1 } });

    expect(await run(x, s, T0 + 60 * MIN)).not.toHaveProperty('replay');
    expect(x.replays).toHaveLength(1);
  });

  it('X reporting the webhook invalid (flagged between two runs, re-validated at once) → one replay, inside X\'s rules', async () => {
    const x = fakeX({ valid: false, revalidates: [true] });
    const s = memoryStore({ lastGoodAt: T0 - 60 * MIN, failedRevalidations: 0 });
    const now = T0 + 15 * MIN;
    const health = await run(x, s, now);
    expect(health).toMatchObject({ status: 'healthy', revalidated: true, replay: { window: { fromDate: '202611250700', toDate: '202611250805' } } });
    expect(x.replays).toHaveLength(1);
    expectInsideXRules(x.replays[0]!, now);
    // The rest of the gap (08:05–08:16) once X allows it, then nothing more.
    for (let i = 1; i <= 4; i++) await run(x, s, now + i * 15 * MIN);
    expect(x.replays).toEqual([
      { fromDate: '202611250700', toDate: '202611250805' },
      { fromDate: '202611250805', toDate: '202611250816' },
    ]);
    // Asked at 08:45, the first run that X's 31 minutes allow.
    expectInsideXRules(x.replays[1]!, now + 30 * MIN);
  });

  it('3 failed self-probes in 2 hours while X calls the webhook valid (e.g. a 429 of our stage throttle): reported, 0 replay jobs', async () => {
    const x = fakeX();
    const s = memoryStore({ lastGoodAt: T0, failedRevalidations: 0 });
    const throttled = async () => ({ ok: false, message: 'FAILED: HTTP 429 in 3 ms' });
    for (const at of [T0 + 15 * MIN, T0 + 60 * MIN, T0 + 105 * MIN]) {
      expect(await run(x, s, at, throttled)).toMatchObject({ status: 'unreachable', probe: 'FAILED: HTTP 429 in 3 ms', since: T0 });
    }
    for (const at of [T0 + 120 * MIN, T0 + 135 * MIN, T0 + 180 * MIN]) expect(await run(x, s, at)).toMatchObject({ status: 'healthy', revalidated: false });
    expect(x.replays).toEqual([]);
    expect(x.calls.filter((c) => c !== 'list')).toEqual([]);
    expect(s.state()?.gapFrom).toBeUndefined();
  });

  it('a gap that X reported keeps waiting while our endpoint fails the check, and is replayed once it answers', async () => {
    const x = fakeX({ valid: false, revalidates: [true] });
    const s = memoryStore({ lastGoodAt: T0, failedRevalidations: 0 });
    expect(await run(x, s, T0 + 60 * MIN, down)).toMatchObject({ status: 'unreachable' });
    expect(x.replays).toEqual([]);
    expect(s.state()).toMatchObject({ gapFrom: T0, gapTo: T0 + 60 * MIN });
    expect(await run(x, s, T0 + 75 * MIN)).toMatchObject({ status: 'healthy', replay: { window: { fromDate: '202611250800', toDate: '202611250901' } } });
  });

  it("a gap longer than X's 24 h: replayed from X's horizon in windows of 2 hours, one per run; the same with no good run on record", async () => {
    const now = T0 + 30 * 3600_000;
    for (const initial of [{ lastGoodAt: T0, failedRevalidations: 0 }, undefined]) {
      const x = fakeX({ valid: false, revalidates: [true] });
      const s = memoryStore(initial);
      await run(x, s, now);
      expect(x.replays).toEqual([{ fromDate: replayDate(now - 24 * 3600_000 + MIN), toDate: replayDate(now - 22 * 3600_000 + MIN) }]);
      expectInsideXRules(x.replays[0]!, now);
    }
  });

  it('the daily bound: a 24 h gap is covered by 12 contiguous jobs inside X\'s rules, and no UTC day ever gets more than 12', async () => {
    const x = fakeX({ valid: false, revalidates: Array<boolean>(200).fill(true) });
    const s = memoryStore();
    const asked: { at: number; w: ReplayWindow }[] = [];
    const replay = x.api.replay;
    let now = T0;
    x.api.replay = async (id, w) => (asked.push({ at: now, w }), replay(id, w));
    for (; now < T0 + 3 * 3600_000; now += 15 * MIN) await run(x, s, now);
    expect(asked).toHaveLength(MAX_REPLAYS_PER_DAY);
    for (const { at, w } of asked) expectInsideXRules(w, at);
    for (let i = 1; i < asked.length; i++) expect(asked[i]!.w.fromDate).toBe(asked[i - 1]!.w.toDate);
    expect(replayDateMs(asked[0]!.w.fromDate)).toBe(T0 - 24 * 3600_000 + 30_000);
    expect(replayDateMs(asked.at(-1)!.w.toDate)).toBe(T0 + 30_000);

    // X flags the webhook invalid every run for the rest of the day: a new gap each time, still at most 12 jobs that UTC day.
    let held = 0;
    for (; now < Date.UTC(2026, 10, 26, 0, 0); now += 15 * MIN) {
      x.webhook.valid = false;
      const health = await run(x, s, now);
      expect(health).toMatchObject({ status: 'healthy', revalidated: true, replayHeld: expect.any(String) });
      if (health.status === 'healthy' && health.replayHeld?.includes('daily bound')) held++;
    }
    expect(held).toBeGreaterThanOrEqual(50);
    expect(asked).toHaveLength(MAX_REPLAYS_PER_DAY);
    const perDay = new Map<string, number>();
    for (const { at } of asked) perDay.set(new Date(at).toISOString().slice(0, 10), (perDay.get(new Date(at).toISOString().slice(0, 10)) ?? 0) + 1);
    expect(perDay.get('2026-11-25')).toBe(MAX_REPLAYS_PER_DAY);
    // The next UTC day asks again.
    now = Date.UTC(2026, 10, 26, 0, 15);
    expect(await run(x, s, now)).toMatchObject({ status: 'healthy', replay: { jobId: 'job-13' } });
    expect(asked).toHaveLength(MAX_REPLAYS_PER_DAY + 1);
  });

  it('keeps the gap when X refuses the replay (one job at a time: ReplayConflictError), and asks again on the next run', async () => {
    const x = fakeX({ valid: false, revalidates: [true], replayFails: 1 });
    const s = memoryStore({ lastGoodAt: T0 - 60 * MIN, failedRevalidations: 0 });
    const first = await run(x, s, T0 + 15 * MIN);
    expect(first).toMatchObject({ status: 'healthy', revalidated: true, replayError: expect.any(Error) });
    expect(s.state()).toMatchObject({ gapFrom: T0 - 60 * MIN, gapTo: T0 + 15 * MIN });
    expect(s.state()?.replays).toBeUndefined();
    const second = await run(x, s, T0 + 30 * MIN);
    expect(second).toMatchObject({ status: 'healthy', replay: { window: { fromDate: '202611250700', toDate: '202611250816' } } });
    expect(s.state()?.gapFrom).toBeUndefined();
  });

  it('reports a missing webhook and keeps the gap open for when it is registered again', async () => {
    const x = fakeX();
    x.webhook.url = 'https://elsewhere.example/hook';
    const s = memoryStore({ lastGoodAt: T0, failedRevalidations: 0 });
    expect(await checkWebhookHealth({ x: x.api, store: s.store, probe: ok, webhookUrl: URL, now: () => T0 + 15 * MIN })).toEqual({ status: 'missing', webhooks: 1 });
    expect(s.state()).toMatchObject({ gapFrom: T0 });
  });

  it("replay windows follow X's rules: minutes, inside 24 h, from at least 31 minutes old, to at least 10", () => {
    expect(replayWindow(T0 - 90 * MIN, T0 - 10 * MIN, T0)).toEqual({ ok: true, window: { fromDate: '202611250630', toDate: '202611250750' } });
    expect(replayWindow(T0 - 25 * 3600_000, T0 - 20 * MIN, T0)).toMatchObject({ ok: false, reason: expect.stringContaining('24 h') });
    expect(replayWindow(T0 - 60 * MIN, T0 - 5 * MIN, T0)).toMatchObject({ ok: false, reason: expect.stringContaining('10 minutes') });
    expect(replayWindow(T0 - 20 * MIN, T0 - 10 * MIN, T0)).toMatchObject({ ok: false, reason: expect.stringContaining('31 minutes') });
    expect(replayWindow(T0 - 20 * MIN, T0 - 30 * MIN, T0)).toMatchObject({ ok: false, reason: 'from must be before to' });
    expect(replayWindow(Number.NaN, T0, T0)).toMatchObject({ ok: false });
  });
});

describe('webhook-health handler', () => {
  function handler(x: ReturnType<typeof fakeX>, store: WebhookHealthStore, probe = async () => ({ ok: true, message: 'OK' })) {
    const observability = testObservability();
    const h = createWebhookHealthHandler({
      ...observability,
      secrets: staticSecretSource(testSecret),
      xApi: () => ({ ...x.api }) as never,
      store,
      webhookUrl: URL,
      probe,
      clock: () => T0 + 15 * MIN,
    });
    return { run: () => h({} as never, lambdaContext), published: observability.published };
  }

  it('counts a webhook that stays invalid (the WebhookInvalid alarm), then the re-validation and the replay', async () => {
    const x = fakeX({ valid: false, revalidates: [false, true] });
    const s = memoryStore({ lastGoodAt: T0 - 60 * MIN, failedRevalidations: 0 });
    const h = handler(x, s.store);
    expect(await h.run()).toEqual({ status: 'invalid' });
    expect(h.published()).toEqual({ WebhookInvalid: 1 });
    const h2 = handler(x, s.store);
    expect(await h2.run()).toEqual({ status: 'healthy' });
    expect(h2.published()).toEqual({ WebhookRevalidated: 1, WebhookReplayStarted: 1 });
  });

  it('counts an unreachable endpoint, and a run that could not read X, without throwing', async () => {
    const h = handler(fakeX(), memoryStore().store, async () => ({ ok: false, message: 'FAILED: timeout' }));
    expect(await h.run()).toEqual({ status: 'unreachable' });
    expect(h.published()).toEqual({ WebhookUnreachable: 1 });
    const broken = fakeX();
    broken.api.listWebhooks = async () => {
      throw new Error('getaddrinfo ENOTFOUND api.x.com');
    };
    const h2 = handler(broken, memoryStore().store);
    expect(await h2.run()).toEqual({ status: 'error' });
    expect(h2.published()).toEqual({ WebhookCheckFailed: 1 });
  });
});
