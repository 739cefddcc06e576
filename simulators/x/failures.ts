import { errorBody, problemType, rateLimited, unsupportedAuthentication } from './problems';

/**
 * Scripted failures: tests queue what X answers next on a route (or a family of routes), so every
 * failure X documents can be replayed in order. A failure is consumed by the first matching call
 * after authentication.
 */
export type ScriptedFailure =
  /** The 15-minute rate limit: x-rate-limit-reset in epoch seconds (default now + 1). */
  | { status: 429; resetAt?: number }
  /** A daily cap (DM sends: 1,440 per user and per app a day) with its x-*-limit-24hour-reset header. */
  | { status: 429; dailyCap: 'user' | 'app'; resetAt?: number }
  /** The app's monthly or daily usage cap (problem type usage-capped). */
  | { status: 429; usageCapped: true; period?: 'Daily' | 'Monthly'; resetAt?: number }
  /** Pay-per-use credits used up (seen in X's answers, not in its docs). */
  | { status: 402; creditsDepleted: true }
  | { status: 401 }
  /** X blames the app: its OAuth 1.0a permissions do not cover the endpoint (problem type oauth1-permissions). */
  | { status: 403; problem: 'oauth1-permissions' }
  /** X refuses the kind of user context on the route (problem type unsupported-authentication), e.g. OAuth 1.0a where it wants OAuth 2.0. */
  | { status: 403; problem: 'unsupported-authentication' }
  /** A 403 without a reason. */
  | { status: 403; plain: true }
  | { status: 500 | 502 | 503 | 504 }
  /** X does the work (e.g. stores the DM), then the answer is lost: it answers `status` instead. */
  | { afterHandling: true; status: 500 | 502 | 503 | 504 }
  /** X never answers (until the simulator closes), or answers normally after `ms`. */
  | { hang: true; ms?: number };

/** Which calls a scripted failure applies to: a route name ('GET /2/dm_events'), a route kind ('dm'), or 'all' API v2 calls. */
export type FailureTarget = string;

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const epochSeconds = () => Math.floor(Date.now() / 1000);

/** What X answers for a scripted failure (before handling); undefined for those that act otherwise. */
export function failureAnswer(f: ScriptedFailure): Answer | undefined {
  if ('hang' in f || 'afterHandling' in f) return undefined;
  const reset = String(('resetAt' in f ? f.resetAt : undefined) ?? epochSeconds() + 1);
  if (f.status === 429 && 'dailyCap' in f) {
    // X's rate-limit page: the 24-hour caps announce their own reset (epoch seconds).
    return { status: 429, body: errorBody(429), headers: { [`x-${f.dailyCap}-limit-24hour-limit`]: '1440', [`x-${f.dailyCap}-limit-24hour-remaining`]: '0', [`x-${f.dailyCap}-limit-24hour-reset`]: reset } };
  }
  if (f.status === 429 && 'usageCapped' in f) {
    const period = f.period ?? 'Monthly';
    return { status: 429, body: { title: 'UsageCapExceeded', detail: `Usage cap exceeded: ${period.toLowerCase()} project cap`, type: problemType.usageCapped, period, scope: 'Product', status: 429 }, headers: { 'x-rate-limit-reset': reset } };
  }
  if (f.status === 429) return { status: 429, body: rateLimited, headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': reset } };
  if (f.status === 402) {
    return { status: 402, body: { title: 'CreditsDepleted', detail: 'Your enrolled account does not have any credits to fulfill this request.', type: 'https://api.twitter.com/2/problems/credits-depleted', status: 402 } };
  }
  if (f.status === 403 && 'problem' in f && f.problem === 'unsupported-authentication') return { status: 403, body: unsupportedAuthentication('OAuth 1.0a User Context', 'OAuth 2.0 User Context') };
  if (f.status === 403 && 'problem' in f) {
    return { status: 403, body: { ...errorBody(403, 'Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.'), type: problemType.oauth1Permissions } };
  }
  if (f.status === 403) return { status: 403, body: errorBody(403, 'Forbidden.') };
  return { status: f.status, body: errorBody(f.status) };
}

/** The queue of scripted failures, in the order tests scripted them. */
export class FailureScript {
  private readonly queue: Array<{ target: FailureTarget; failure: ScriptedFailure }> = [];

  add(target: FailureTarget, failure: ScriptedFailure, times = 1): void {
    for (let i = 0; i < times; i++) this.queue.push({ target, failure });
  }

  /** The first failure scripted for this call, removed from the queue. */
  take(route: { name: string; kind: string }, apiCall: boolean): ScriptedFailure | undefined {
    const i = this.queue.findIndex((q) => (q.target === 'all' && apiCall) || q.target === route.name || q.target === route.kind);
    return i === -1 ? undefined : this.queue.splice(i, 1)[0]!.failure;
  }

  clear(): void {
    this.queue.length = 0;
  }
}
