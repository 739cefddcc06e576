import { checkWebhookHealth, MAX_REPLAYS_PER_DAY } from '../../functions/core/webhook-health';
import type { RefusedDeliveryLog, WebhookHealthStore } from '../../functions/core/ports';
import type { Refusals, WebhookHealthState } from '../../functions/core/webhook-health-state';
import type { ReplayWindow } from '../../functions/core/x-webhook-api';
import { expectInsideXRules, replayDateMs } from '../support/replay-rules';
import { createWebhookHandler } from '../../functions/webhook/handler';
import { staticSecretSource } from '../../functions/adapters/secrets';
import { signPayload } from '../../functions/core/x-signature';
import { testObservability } from '../support/observability';
import { refusingParking } from '../support/parking';
import { fixtureAccountId, fixtureBytes, httpEvent, lambdaContext, testSecret, vectors } from '../support/x-fixtures';

/**
 * Issue 16 §7, "deliveries were refused": X does not send a delivery again that our webhook
 * answered 4xx, so the webhook records when it refused one and webhook health asks X to replay it.
 */
const URL = 'https://bridge.example/webhooks/twitter';
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 25, 8, 0, 30);

/** The table's two items, in memory: the refusals record (first kept, last overwritten) and the health state. */
function memoryTable() {
  let state: WebhookHealthState | undefined;
  let refused: Refusals | undefined;
  const log: RefusedDeliveryLog = {
    async record(at) {
      refused = { firstAt: refused?.firstAt ?? at, lastAt: at };
    },
  };
  const store: WebhookHealthStore = {
    get: async () => state,
    put: async (s) => void (state = s),
    refusals: async () => refused,
    async clearRefusals(read) {
      if (refused?.lastAt === read.lastAt) refused = undefined;
    },
  };
  return { log, store, refused: () => refused, state: () => state };
}

function fakeX() {
  const replays: { window: ReplayWindow; at: number }[] = [];
  let at = 0;
  return {
    replays,
    at: (now: number) => void (at = now),
    api: {
      listWebhooks: async () => [{ id: '1861', url: URL, valid: true, created_at: '2026-11-01T00:00:00.000Z' }],
      validateWebhook: async () => true,
      async replay(_id: string, window: ReplayWindow) {
        replays.push({ window, at });
        return { jobId: `job-${replays.length}`, createdAt: new Date(at).toISOString() };
      },
    },
  };
}

const covers = (w: ReplayWindow, at: number) => replayDateMs(w.fromDate) <= at && at < replayDateMs(w.toDate);

describe('refused deliveries are replayed', () => {
  const ok = async () => ({ ok: true, message: 'OK' });
  const signedBroken = (body = Buffer.from('{"for_user_id": ')) => httpEvent({ body, headers: { 'x-twitter-webhooks-signature': signPayload(vectors.consumerSecret, body) } });

  function setup() {
    const table = memoryTable();
    const x = fakeX();
    let now = T0;
    const webhook = createWebhookHandler({ parking: refusingParking, ...testObservability(), secrets: staticSecretSource(testSecret), queue: { send: async () => undefined }, refusals: table.log, xAccountId: fixtureAccountId, clock: () => now });
    const refuse = async (at: number) => {
      now = at;
      expect((await webhook(signedBroken(), lambdaContext)).statusCode).toBe(400);
    };
    const health = async (at: number) => {
      now = at;
      x.at(at);
      return checkWebhookHealth({ x: x.api, store: table.store, probe: ok, webhookUrl: URL, now: () => at });
    };
    /** Health runs every 15 minutes from `from` to `to`. */
    const runs = async (from: number, to: number) => {
      for (let t = from; t <= to; t += 15 * MIN) await health(t);
    };
    return { table, x, webhook, refuse, health, runs, setNow: (t: number) => void (now = t) };
  }

  it('records the time of a refused signed delivery (never its body), not of an unsigned one, nor of one it accepted', async () => {
    const s = setup();
    s.setNow(T0);
    const unsigned = Buffer.from('{"for_user_id": ');
    expect((await s.webhook(httpEvent({ body: unsigned }), lambdaContext)).statusCode).toBe(401);
    const dm = fixtureBytes('dm-received.json');
    expect((await s.webhook(httpEvent({ body: dm, headers: { 'x-twitter-webhooks-signature': signPayload(vectors.consumerSecret, dm) } }), lambdaContext)).statusCode).toBe(200);
    expect(s.table.refused()).toBeUndefined();
    await s.refuse(T0 + MIN);
    await s.refuse(T0 + 5 * MIN);
    expect(s.table.refused()).toEqual({ firstAt: T0 + MIN, lastAt: T0 + 5 * MIN });
  });

  it('a refused signed delivery → after the window matures, exactly one replay covering it, inside X\'s rules; the refusal record is cleared', async () => {
    const s = setup();
    await s.health(T0);
    const refusedAt = T0 + 3 * MIN;
    await s.refuse(refusedAt);
    // Runs every 15 minutes for 4 hours: nothing before the window is 31 minutes old, then one job.
    await s.runs(T0 + 15 * MIN, T0 + 4 * 3600_000);
    expect(s.x.replays).toHaveLength(1);
    const [{ window, at }] = s.x.replays as [{ window: ReplayWindow; at: number }];
    expect(covers(window, refusedAt)).toBe(true);
    expectInsideXRules(window, at);
    expect(at).toBeGreaterThanOrEqual(refusedAt + 31 * MIN - MIN);
    expect(s.table.refused()).toBeUndefined();
    expect(s.table.state()).toMatchObject({ gapFrom: undefined, gapTo: undefined, replays: { count: 1 } });
  });

  it('many refusals in the same hour, health running every 15 minutes meanwhile → one replay covering all of them', async () => {
    const s = setup();
    await s.health(T0);
    const times: number[] = [];
    for (let t = T0 + MIN; t < T0 + 55 * MIN; t += 4 * MIN) times.push(t);
    let run = T0 + 15 * MIN;
    for (const t of times) {
      while (run <= t) {
        await s.health(run);
        run += 15 * MIN;
      }
      await s.refuse(t);
    }
    await s.runs(run, T0 + 5 * 3600_000);
    expect(s.x.replays).toHaveLength(1);
    const [{ window, at }] = s.x.replays as [{ window: ReplayWindow; at: number }];
    for (const t of times) expect(covers(window, t)).toBe(true);
    expectInsideXRules(window, at);
  });

  it('a refusal during a gap X reported (webhook invalid) joins that gap; a refusal arriving between the read and the clear is kept for the next run', async () => {
    const s = setup();
    await s.refuse(T0);
    const read = await s.table.store.refusals();
    await s.refuse(T0 + 2 * MIN);
    await s.table.store.clearRefusals(read!);
    expect(s.table.refused()).toEqual({ firstAt: T0, lastAt: T0 + 2 * MIN });
    await s.table.store.put({ failedRevalidations: 1, gapFrom: T0 - 30 * MIN });
    await s.health(T0 + 5 * MIN);
    // The open gap keeps its earlier start and ends at this run (X valid again).
    expect(s.table.state()).toMatchObject({ gapFrom: T0 - 30 * MIN, gapTo: T0 + 5 * MIN });
    expect(s.table.refused()).toBeUndefined();
  });

  it('refusals every 10 minutes for 30 hours: at most MAX_REPLAYS_PER_DAY jobs a UTC day, each inside X\'s rules, windows of up to 2 hours', async () => {
    const s = setup();
    const end = T0 + 30 * 3600_000;
    let next = T0;
    for (let t = T0; t <= end; t += 5 * MIN) {
      if (t >= next) {
        await s.refuse(t);
        next += 10 * MIN;
      }
      if ((t - T0) % (15 * MIN) === 0) await s.health(t);
    }
    const perDay = new Map<string, number>();
    for (const { window, at } of s.x.replays) {
      expectInsideXRules(window, at);
      const day = new Date(at).toISOString().slice(0, 10);
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    expect(s.x.replays.length).toBeGreaterThan(0);
    for (const count of perDay.values()) expect(count).toBeLessThanOrEqual(MAX_REPLAYS_PER_DAY);
  });
});

describe('the webhook when the refusal cannot be recorded', () => {
  it('answers the same 4xx and logs it (WebhookRejected still alarms)', async () => {
    const observability = testObservability();
    const failing: RefusedDeliveryLog = { record: async () => Promise.reject(new Error('ThrottlingException')) };
    const webhook = createWebhookHandler({ parking: refusingParking, ...observability, secrets: staticSecretSource(testSecret), queue: { send: async () => undefined }, refusals: failing, xAccountId: fixtureAccountId });
    const body = Buffer.from('{"for_user_id": ');
    const res = await webhook(httpEvent({ body, headers: { 'x-twitter-webhooks-signature': signPayload(vectors.consumerSecret, body) } }), lambdaContext);
    expect(res.statusCode).toBe(400);
    expect(observability.published()).toEqual({ WebhookRejected: 1 });
  });
});
