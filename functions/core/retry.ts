export interface BackoffOptions {
  baseSeconds: number;
  maxSeconds: number;
}

/** SQS allows at most 12 hours of visibility timeout. */
export const MAX_VISIBILITY_SECONDS = 43_200;

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
