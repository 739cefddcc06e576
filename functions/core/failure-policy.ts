import { PermanentError, TransientError } from './errors';
import { backoffSeconds, secondsUntil, type BackoffOptions } from './retry';

/**
 * What happens to a queue message whose processing failed: retried after a back-off, or moved to
 * the DLQ now. Decided from that message's own attempts (counted in the table per event id),
 * never from SQS's receive count: on a FIFO queue the messages behind a failing one of the same
 * person are received (and counted) with it while never being tried.
 */
export type FailureDecision = { kind: 'retry'; inSeconds: number } | { kind: 'dead-letter'; reason: string };

export interface FailurePolicy {
  /** Attempts after which a message that keeps failing goes to the DLQ. */
  maxAttempts: number;
  backoff: BackoffOptions;
}

/** Default attempts; the queues' maxReceiveCount stays far above, as a backstop only. */
export const DEFAULT_MAX_ATTEMPTS = 8;

export function decideFailure(
  err: unknown,
  attempts: number,
  policy: FailurePolicy,
  nowMs: number,
  random: () => number = Math.random,
): FailureDecision {
  const reason = (err as Error)?.message ?? String(err);
  if (err instanceof PermanentError) return { kind: 'dead-letter', reason };
  if (attempts >= policy.maxAttempts) return { kind: 'dead-letter', reason: `failed ${attempts} attempts, last: ${reason}` };
  const retryAt = err instanceof TransientError ? err.retryAt : undefined;
  return { kind: 'retry', inSeconds: Math.max(backoffSeconds(attempts, policy.backoff, random), retryAt ? secondsUntil(retryAt, nowMs) : 0) };
}
