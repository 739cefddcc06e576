import { z } from 'zod';

/**
 * X's webhook management, as the operator CLI and the webhook-health function see it (the adapter
 * is functions/adapters/x-webhooks.ts; the port, XWebhookApi, is in core/ports.ts). Shapes from X's OpenAPI document (xdevplatform/docs):
 * `GET /2/webhooks` → `{data: WebhookConfig[]}`, `PUT /2/webhooks/:id` → `{data: {valid}}`,
 * `DELETE /2/webhooks/:id` → `{data: {deleted}}`, `POST /2/webhooks/replay` → `{data: {job_id,
 * created_at}}`, `/2/activity/subscriptions` (X Activity API subscriptions).
 */
export const xWebhookSchema = z.object({ id: z.string(), url: z.string(), valid: z.boolean(), created_at: z.string() });
export type XWebhook = z.infer<typeof xWebhookSchema>;

export const activitySubscriptionSchema = z
  .object({
    subscription_id: z.string(),
    event_type: z.string(),
    filter: z.object({ user_id: z.string().optional() }).passthrough().default({}),
    tag: z.string().optional(),
    webhook_id: z.string().optional(),
  })
  .passthrough();
export type XActivitySubscription = z.infer<typeof activitySubscriptionSchema>;

/**
 * X's replay rules. `POST /2/webhooks/replay` replays "up to the past 24 hours"; X's Account Activity
 * replay docs (docs.x.com "V2 Account Activity API", Replay), whose functionality X says the new
 * endpoint keeps, add: `from_date` no more recent than 31 minutes before now, `to_date` at least
 * 10 minutes before now, minute granularity, windows of about 2 hours recommended, one job per
 * webhook at a time (`ReplayConflictError` otherwise).
 */
export const REPLAY_RULES = {
  horizonMs: 24 * 3600_000,
  fromAgeMs: 31 * 60_000,
  toAgeMs: 10 * 60_000,
  windowMs: 2 * 3600_000,
} as const;

export interface ReplayWindow {
  /** `yyyymmddhhmm`, UTC, as X's replay endpoint takes them. */
  fromDate: string;
  toDate: string;
}

/** `yyyymmddhhmm` in UTC. */
export function replayDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 12);
}

const MINUTE = 60_000;

/**
 * The replay window X accepts for [from, to] (REPLAY_RULES): `from` not older than 24 h (rounded up
 * to the next minute so the request is still inside the horizon when it arrives) and at least 31
 * minutes old, `to` at least 10 minutes old, `from` before `to`. Returns a one-line reason when the
 * window cannot be asked for.
 */
export function replayWindow(fromMs: number, toMs: number, nowMs: number): { ok: true; window: ReplayWindow } | { ok: false; reason: string } {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) return { ok: false, reason: 'from and to must be ISO times, e.g. 2026-11-25T08:00:00Z' };
  const latestTo = nowMs - REPLAY_RULES.toAgeMs;
  if (toMs > latestTo) return { ok: false, reason: `to (${new Date(toMs).toISOString()}) is less than 10 minutes ago: X replays only up to ${new Date(latestTo).toISOString()}` };
  if (fromMs >= toMs) return { ok: false, reason: 'from must be before to' };
  const oldest = nowMs - REPLAY_RULES.horizonMs;
  if (fromMs < oldest) return { ok: false, reason: `from is older than X's 24 h replay limit (oldest now: ${new Date(oldest).toISOString()})` };
  if (fromMs > nowMs - REPLAY_RULES.fromAgeMs) return { ok: false, reason: 'from is less than 31 minutes ago: X replays a window only once it is that old' };
  const fromMinute = Math.floor(fromMs / MINUTE) * MINUTE;
  const from = fromMinute < oldest ? fromMinute + MINUTE : fromMinute;
  return { ok: true, window: { fromDate: replayDate(from), toDate: replayDate(Math.floor(toMs / MINUTE) * MINUTE) } };
}

/** The tenant's webhook among the app's: the one registered for its URL. */
export function webhookFor(hooks: XWebhook[], url: string): XWebhook | undefined {
  return hooks.find((h) => h.url === url);
}

/** X accepts only https webhook URLs without a port (docs.x.com "Webhook requirements"). */
export function webhookUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${url} is not a URL`;
  }
  if (parsed.protocol !== 'https:') return `X accepts only https webhook URLs, not ${parsed.protocol}//`;
  if (parsed.port !== '') return `X does not accept a port in the webhook URL (:${parsed.port})`;
  if (url.length > 200) return 'X accepts webhook URLs of at most 200 characters';
  return undefined;
}
