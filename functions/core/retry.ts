export interface BackoffOptions {
  baseSeconds: number;
  maxSeconds: number;
}

/**
 * The longest back-off we ask SQS for. SQS allows 12 hours (43,200 s) counted from the receive,
 * not from the change, so a request made later in the invocation (up to Lambda's 900 s) must stay
 * below: otherwise SQS refuses it and the message returns after the short queue visibility instead.
 */
export const MAX_VISIBILITY_SECONDS = 43_200 - 900 - 60;

/**
 * Full-jitter exponential back-off for the n-th receive (1-based): a random delay in
 * [base, min(max, base * 2^(n-1))] seconds. `random` is injected so tests are deterministic.
 */
export function backoffSeconds(receiveCount: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const attempt = Math.max(1, Math.floor(receiveCount));
  const cap = Math.min(opts.maxSeconds, MAX_VISIBILITY_SECONDS, opts.baseSeconds * 2 ** Math.min(attempt - 1, 30));
  const span = Math.max(0, cap - opts.baseSeconds);
  return Math.min(MAX_VISIBILITY_SECONDS, Math.round(opts.baseSeconds + random() * span));
}

/** Seconds to wait until an absolute time (e.g. a rate-limit reset), at least 1, at most 12 h. */
export function secondsUntil(retryAtMs: number, nowMs: number): number {
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, Math.ceil((retryAtMs - nowMs) / 1000)));
}
