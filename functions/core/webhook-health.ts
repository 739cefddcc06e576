import type { WebhookHealthStore, XWebhookApi } from './ports';
import type { WebhookHealthState } from './webhook-health-state';
import { REPLAY_HORIZON_MS, replayWindow, webhookFor, type ReplayWindow, type XWebhook } from './x-webhook-api';

/**
 * Webhook health, run on a schedule: X stops delivering to a webhook it marks invalid, and gives up
 * on deliveries our endpoint failed while it still calls the webhook valid. Each run reads X's
 * `valid` flag (`GET /2/webhooks`) and runs the CRC check against our own endpoint the way X does;
 * an invalid webhook is re-validated (`PUT /2/webhooks/:id`); once both are good again after a bad
 * spell, a replay job (`POST /2/webhooks/replay`) re-delivers the gap — from the last time known
 * good to now, at most X's 24 h — and the event-id de-duplication downstream keeps each DM single.
 */

/** Our endpoint's CRC answer, checked as X checks it. */
type CrcProbe = (url: string) => Promise<{ ok: boolean; message: string }>;

export interface WebhookHealthDeps {
  x: Pick<XWebhookApi, 'listWebhooks' | 'validateWebhook' | 'replay'>;
  store: WebhookHealthStore;
  probe: CrcProbe;
  /** The tenant's webhook URL, as registered with X. */
  webhookUrl: string;
  now: () => number;
}

export type WebhookHealth =
  /** Valid and answering; `replay` when a gap was just handed to X. */
  | { status: 'healthy'; webhook: XWebhook; revalidated: boolean; replay?: { jobId: string; window: ReplayWindow }; replayError?: unknown }
  /** X says invalid and re-validation did not bring it back. */
  | { status: 'invalid'; webhook: XWebhook; failedRevalidations: number; since?: number }
  /** X says valid but our endpoint does not answer CRC: X's deliveries fail meanwhile. */
  | { status: 'unreachable'; webhook: XWebhook; probe: string; since?: number }
  /** No webhook of the app is registered for the tenant's URL. */
  | { status: 'missing'; webhooks: number };

/** One health run. Errors talking to X propagate (the next run starts over from the stored state). */
export async function checkWebhookHealth(deps: WebhookHealthDeps): Promise<WebhookHealth> {
  const { x, store, webhookUrl } = deps;
  const state: WebhookHealthState = (await store.get()) ?? { failedRevalidations: 0 };
  const now = deps.now();
  // With no good run on record, the gap is as far back as X can replay.
  const gapStart = () => state.gapFrom ?? state.lastGoodAt ?? now - REPLAY_HORIZON_MS;

  const hooks = await x.listWebhooks();
  const webhook = webhookFor(hooks, webhookUrl);
  if (!webhook) {
    await store.put({ ...state, gapFrom: gapStart() });
    return { status: 'missing', webhooks: hooks.length };
  }

  let revalidated = false;
  if (!webhook.valid) {
    if (!(await x.validateWebhook(webhook.id))) {
      const failedRevalidations = state.failedRevalidations + 1;
      await store.put({ ...state, gapFrom: gapStart(), failedRevalidations });
      return { status: 'invalid', webhook, failedRevalidations, since: state.lastGoodAt };
    }
    revalidated = true;
  }

  const probe = await deps.probe(webhookUrl);
  if (!probe.ok) {
    await store.put({ ...state, gapFrom: gapStart() });
    return { status: 'unreachable', webhook, probe: probe.message, since: state.lastGoodAt };
  }

  // A gap opens with a bad run; the run that revalidated also had X not delivering before it.
  const gapFrom = state.gapFrom ?? (revalidated ? gapStart() : undefined);
  const next: WebhookHealthState = { ...state, lastGoodAt: now, failedRevalidations: 0, gapFrom: undefined };
  if (gapFrom === undefined) {
    await store.put(next);
    return { status: 'healthy', webhook, revalidated };
  }
  const checked = replayWindow(Math.max(gapFrom, now - REPLAY_HORIZON_MS), now, now);
  if (!checked.ok) {
    // Only a gap shorter than a minute lands here (from ≥ to): nothing X could replay.
    await store.put(next);
    return { status: 'healthy', webhook, revalidated };
  }
  try {
    const job = await x.replay(webhook.id, checked.window);
    await store.put({ ...next, lastReplay: { jobId: job.jobId, ...checked.window, at: now } });
    return { status: 'healthy', webhook, revalidated, replay: { jobId: job.jobId, window: checked.window } };
  } catch (replayError) {
    // Keep the gap: the next run asks again (X allows one job per webhook at a time).
    await store.put({ ...next, gapFrom });
    return { status: 'healthy', webhook, revalidated, replayError };
  }
}
