import type { WebhookHealthStore } from '../../functions/core/ports';
import { checkWebhookHealth } from '../../functions/core/webhook-health';
import type { WebhookHealthState } from '../../functions/core/webhook-health-state';
import { replayDate, replayWindow, type ReplayWindow, type XWebhook } from '../../functions/core/x-webhook-api';
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
  const store: WebhookHealthStore = { get: async () => state, put: async (s) => void (state = s) };
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

  it('invalid → re-validation fails (alarm) → re-validated → replays the gap from the last good time to now', async () => {
    const x = fakeX({ revalidates: [false, true] });
    const s = memoryStore({ lastGoodAt: T0, failedRevalidations: 0 });
    x.webhook.valid = false;

    const first = await checkWebhookHealth({ x: x.api, store: s.store, probe: ok, webhookUrl: URL, now: () => T0 + 15 * MIN });
    expect(first).toMatchObject({ status: 'invalid', failedRevalidations: 1, since: T0 });
    expect(s.state()).toMatchObject({ lastGoodAt: T0, gapFrom: T0, failedRevalidations: 1 });

    const second = await checkWebhookHealth({ x: x.api, store: s.store, probe: ok, webhookUrl: URL, now: () => T0 + 30 * MIN });
    expect(second).toMatchObject({ status: 'healthy', revalidated: true, replay: { jobId: 'job-1' } });
    expect(x.replays).toEqual([{ fromDate: '202611250800', toDate: '202611250830' }]);
    expect(s.state()).toMatchObject({ lastGoodAt: T0 + 30 * MIN, gapFrom: undefined, failedRevalidations: 0, lastReplay: { jobId: 'job-1', fromDate: '202611250800' } });

    const third = await checkWebhookHealth({ x: x.api, store: s.store, probe: ok, webhookUrl: URL, now: () => T0 + 45 * MIN });
    expect(third).toMatchObject({ status: 'healthy', revalidated: false });
    expect(third).not.toHaveProperty('replay');
    expect(x.replays).toHaveLength(1);
  });

  it('re-validated at once (X flagged it between two runs): replays since the last good run', async () => {
    const x = fakeX({ valid: false, revalidates: [true] });
    const s = memoryStore({ lastGoodAt: T0, failedRevalidations: 0 });
    const health = await checkWebhookHealth({ x: x.api, store: s.store, probe: ok, webhookUrl: URL, now: () => T0 + 15 * MIN });
    expect(health).toMatchObject({ status: 'healthy', revalidated: true, replay: { window: { fromDate: '202611250800', toDate: '202611250815' } } });
  });

  it('our endpoint failing CRC while X still says valid opens a gap that is replayed once it answers again', async () => {
    const x = fakeX();
    const s = memoryStore({ lastGoodAt: T0, failedRevalidations: 0 });
    const bad = await checkWebhookHealth({ x: x.api, store: s.store, probe: down, webhookUrl: URL, now: () => T0 + 15 * MIN });
    expect(bad).toMatchObject({ status: 'unreachable', probe: 'FAILED: HTTP 502', since: T0 });
    expect(x.calls).toEqual(['list']);
    const again = await checkWebhookHealth({ x: x.api, store: s.store, probe: down, webhookUrl: URL, now: () => T0 + 30 * MIN });
    expect(again.status).toBe('unreachable');
    expect(s.state()).toMatchObject({ gapFrom: T0, lastGoodAt: T0 });
    const back = await checkWebhookHealth({ x: x.api, store: s.store, probe: ok, webhookUrl: URL, now: () => T0 + 45 * MIN });
    expect(back).toMatchObject({ status: 'healthy', replay: { window: { fromDate: '202611250800', toDate: '202611250845' } } });
  });

  it("caps the gap at X's 24 h replay horizon, and with no good run on record replays the whole horizon", async () => {
    const now = T0 + 30 * 3600_000;
    const x = fakeX({ valid: false, revalidates: [true, true] });
    await checkWebhookHealth({ x: x.api, store: memoryStore({ lastGoodAt: T0, failedRevalidations: 0 }).store, probe: ok, webhookUrl: URL, now: () => now });
    x.webhook.valid = false;
    await checkWebhookHealth({ x: x.api, store: memoryStore().store, probe: ok, webhookUrl: URL, now: () => now });
    const oldest = replayDate(now - 24 * 3600_000 + MIN);
    expect(x.replays).toEqual([
      { fromDate: oldest, toDate: replayDate(now) },
      { fromDate: oldest, toDate: replayDate(now) },
    ]);
    // What X would accept: inside the last 24 h.
    for (const r of x.replays) expect(Date.UTC(+r.fromDate.slice(0, 4), +r.fromDate.slice(4, 6) - 1, +r.fromDate.slice(6, 8), +r.fromDate.slice(8, 10), +r.fromDate.slice(10))).toBeGreaterThanOrEqual(now - 24 * 3600_000);
  });

  it('keeps the gap when X refuses the replay, and asks again on the next run', async () => {
    const x = fakeX({ valid: false, revalidates: [true], replayFails: 1 });
    const s = memoryStore({ lastGoodAt: T0, failedRevalidations: 0 });
    const first = await checkWebhookHealth({ x: x.api, store: s.store, probe: ok, webhookUrl: URL, now: () => T0 + 15 * MIN });
    expect(first).toMatchObject({ status: 'healthy', revalidated: true, replayError: expect.any(Error) });
    expect(s.state()).toMatchObject({ gapFrom: T0 });
    const second = await checkWebhookHealth({ x: x.api, store: s.store, probe: ok, webhookUrl: URL, now: () => T0 + 30 * MIN });
    expect(second).toMatchObject({ status: 'healthy', replay: { window: { fromDate: '202611250800', toDate: '202611250830' } } });
    expect(s.state()?.gapFrom).toBeUndefined();
  });

  it('reports a missing webhook and keeps the gap open for when it is registered again', async () => {
    const x = fakeX();
    x.webhook.url = 'https://elsewhere.example/hook';
    const s = memoryStore({ lastGoodAt: T0, failedRevalidations: 0 });
    expect(await checkWebhookHealth({ x: x.api, store: s.store, probe: ok, webhookUrl: URL, now: () => T0 + 15 * MIN })).toEqual({ status: 'missing', webhooks: 1 });
    expect(s.state()).toMatchObject({ gapFrom: T0 });
  });

  it('replay windows: minutes, inside the horizon, never in the future', () => {
    expect(replayWindow(T0 - 90 * MIN, T0, T0)).toEqual({ ok: true, window: { fromDate: '202611250630', toDate: '202611250800' } });
    expect(replayWindow(T0 - 25 * 3600_000, T0, T0)).toMatchObject({ ok: false });
    expect(replayWindow(T0 - MIN, T0 + MIN, T0)).toMatchObject({ ok: false });
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
    const s = memoryStore({ lastGoodAt: T0, failedRevalidations: 0 });
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
