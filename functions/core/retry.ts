/**
 * Errors are values with a class: Permanent (retrying cannot help: bad input, 4xx) goes to the DLQ
 * at once; Transient (timeouts, 5xx, 408/429, throttling) is retried with back-off.
 */
export class PermanentError extends Error {
  readonly kind = 'permanent' as const;
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'PermanentError';
  }
}

export class TransientError extends Error {
  readonly kind = 'transient' as const;
  /** When the far side told us when to come back (e.g. X's x-rate-limit-reset), in epoch ms. */
  constructor(message: string, readonly status?: number, readonly retryAt?: number) {
    super(message);
    this.name = 'TransientError';
  }
}

export type ErrorClass = 'permanent' | 'transient';

/** Classifies an HTTP status from a downstream API. 2xx never reaches here. */
export function classifyHttpStatus(status: number): ErrorClass {
  if (status === 408 || status === 429 || status >= 500) return 'transient';
  return status >= 400 ? 'permanent' : 'transient';
}

/** Anything not explicitly permanent is transient: losing a message is worse than one more retry. */
export function classifyError(err: unknown): ErrorClass {
  return err instanceof PermanentError ? 'permanent' : 'transient';
}

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
