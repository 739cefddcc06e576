import type { WebhookHealthStore, XWebhookApi } from './ports';
import type { Refusals, WebhookHealthState } from './webhook-health-state';
import { REPLAY_RULES, replayWindow, webhookFor, type ReplayWindow, type XWebhook } from './x-webhook-api';

/**
 * Webhook health, run on a schedule: X stops delivering to a webhook it marks invalid. Each run
 * reads X's `valid` flag (`GET /2/webhooks`) and runs the CRC check against our own endpoint the way
 * X does; an invalid webhook is re-validated (`PUT /2/webhooks/:id`). Only what X reports opens a
 * gap to replay: the webhook invalid, no webhook for the tenant's URL, or a signed delivery our
 * webhook refused (X does not send a 4xx'd delivery again; the webhook records when). Our own CRC check failing
 * while X calls the webhook valid (e.g. a 429 of our stage throttle, which anyone can cause) is
 * reported and alarmed, never replayed. Once the webhook is valid and answering, replay jobs
 * (`POST /2/webhooks/replay`) re-deliver the gap within X's rules (REPLAY_RULES): one window of at
 * most 2 hours per run (X runs one job at a time), at least 31 minutes old at its start and 10 at
 * its end, inside X's 24 h, at most MAX_REPLAYS_PER_DAY jobs a UTC day. The event-id
 * de-duplication downstream keeps each DM single.
 */

/** Replay jobs asked for per UTC day: 12 windows of X's recommended 2 hours cover X's whole 24 h once. */
export const MAX_REPLAYS_PER_DAY = 12;

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

/** What a healthy run did about a gap X did not deliver. */
interface ReplayOutcome {
  /** A job X accepted for the gap's next window. */
  replay?: { jobId: string; window: ReplayWindow };
  /** X refused the job (e.g. ReplayConflictError: one is still running): the next run asks again. */
  replayError?: unknown;
  /** A gap is open but no job was asked for this run, and why (too recent for X, the daily bound). */
  replayHeld?: string;
}

export type WebhookHealth =
  /** Valid and answering. */
  | ({ status: 'healthy'; webhook: XWebhook; revalidated: boolean } & ReplayOutcome)
  /** X says invalid and re-validation did not bring it back. */
  | { status: 'invalid'; webhook: XWebhook; failedRevalidations: number; since?: number }
  /** X says valid but our endpoint does not answer the CRC check: reported, not replayed. */
  | { status: 'unreachable'; webhook: XWebhook; probe: string; since?: number }
  /** No webhook of the app is registered for the tenant's URL. */
  | { status: 'missing'; webhooks: number };

const MINUTE = 60_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** One health run. Errors talking to X propagate (the next run starts over from the stored state). */
export async function checkWebhookHealth(deps: WebhookHealthDeps): Promise<WebhookHealth> {
  const { x, store, webhookUrl } = deps;
  const refusals = await store.refusals();
  const state = withRefusals((await store.get()) ?? { failedRevalidations: 0 }, refusals);
  const now = deps.now();
  // The refusals live on in the stored gap: their own record is cleared once that is written.
  const save = async (s: WebhookHealthState) => {
    await store.put(s);
    if (refusals) await store.clearRefusals(refusals);
  };
  // X is not delivering: the gap runs from the last good run (with none on record, as far back as X replays) until X calls the webhook valid again.
  const openGap = (): WebhookHealthState => ({ ...state, gapFrom: state.gapFrom ?? state.lastGoodAt ?? now - REPLAY_RULES.horizonMs, gapTo: undefined });

  const hooks = await x.listWebhooks();
  const webhook = webhookFor(hooks, webhookUrl);
  if (!webhook) {
    await save(openGap());
    return { status: 'missing', webhooks: hooks.length };
  }

  let current = state;
  let revalidated = false;
  if (!webhook.valid) {
    if (!(await x.validateWebhook(webhook.id))) {
      const failedRevalidations = state.failedRevalidations + 1;
      await save({ ...openGap(), failedRevalidations });
      return { status: 'invalid', webhook, failedRevalidations, since: state.lastGoodAt };
    }
    revalidated = true;
    current = openGap();
  }
  if (current.gapFrom !== undefined && current.gapTo === undefined) current = { ...current, gapTo: now };

  const probe = await deps.probe(webhookUrl);
  if (!probe.ok) {
    await save(current);
    return { status: 'unreachable', webhook, probe: probe.message, since: state.lastGoodAt };
  }

  const { next, ...outcome } = await replayGap(x, webhook, { ...current, lastGoodAt: now, failedRevalidations: 0 }, now, refusals !== undefined);
  await save(next);
  return { status: 'healthy', webhook, revalidated, ...outcome };
}

/**
 * Takes the webhook's refusals into the gap: from a minute before the first (X sends a few seconds
 * after the event) to a minute after the last. A gap still open (X not delivering) stays open.
 */
function withRefusals(state: WebhookHealthState, refusals: Refusals | undefined): WebhookHealthState {
  if (!refusals) return state;
  const from = refusals.firstAt - MINUTE;
  const to = refusals.lastAt + MINUTE;
  if (state.gapFrom === undefined) return { ...state, gapFrom: from, gapTo: to };
  return { ...state, gapFrom: Math.min(state.gapFrom, from), gapTo: state.gapTo === undefined ? undefined : Math.max(state.gapTo, to) };
}

/** Asks X to replay the gap's next window, within X's rules and the daily bound; returns the state to keep. */
async function replayGap(x: WebhookHealthDeps['x'], webhook: XWebhook, state: WebhookHealthState, now: number, growing: boolean): Promise<ReplayOutcome & { next: WebhookHealthState }> {
  const { gapFrom, gapTo } = state;
  if (gapFrom === undefined || gapTo === undefined) return { next: state };
  // What is older than X's horizon (its first whole minute) cannot be replayed any more.
  const from = Math.max(gapFrom, Math.ceil((now - REPLAY_RULES.horizonMs) / MINUTE) * MINUTE);
  // The gap's last minute is replayed whole (X's `to_date` is a minute).
  const end = Math.ceil(gapTo / MINUTE) * MINUTE;
  const closed = (s: WebhookHealthState): WebhookHealthState => ({ ...s, gapFrom: undefined, gapTo: undefined });
  if (Math.floor(from / MINUTE) * MINUTE >= end) return { next: closed(state) };
  const to = Math.min(end, Math.floor(from / MINUTE) * MINUTE + REPLAY_RULES.windowMs, now - REPLAY_RULES.toAgeMs);
  // Refusals still coming in, the gap shorter than X's window: it waits to be replayed in one job, not in slices.
  if (growing && to < end && end - Math.floor(from / MINUTE) * MINUTE <= REPLAY_RULES.windowMs) return { next: state, replayHeld: 'the webhook refused deliveries less than 10 minutes ago; a later run replays the gap in one job' };
  const checked = replayWindow(from, to, now);
  if (!checked.ok) return { next: state, replayHeld: `${checked.reason}; a later run asks` };
  const day = utcDay(now);
  const count = state.replays?.day === day ? state.replays.count : 0;
  if (count >= MAX_REPLAYS_PER_DAY) return { next: state, replayHeld: `${MAX_REPLAYS_PER_DAY} replay jobs asked for today (UTC), the daily bound; the rest of the gap waits for tomorrow` };
  try {
    const job = await x.replay(webhook.id, checked.window);
    // The next window starts where this one ended (X's `to_date` inclusive or not: that minute is in one of them).
    const replayedTo = Math.floor(to / MINUTE) * MINUTE;
    const next: WebhookHealthState = { ...state, gapFrom: replayedTo, lastReplay: { jobId: job.jobId, ...checked.window, at: now }, replays: { day, count: count + 1 } };
    return { next: replayedTo >= end ? closed(next) : next, replay: { jobId: job.jobId, window: checked.window } };
  } catch (replayError) {
    return { next: state, replayError };
  }
}
