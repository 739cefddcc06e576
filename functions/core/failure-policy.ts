import { PermanentError, TransientError } from './errors';
import type { ConversationStore } from './ports';
import type { ProcessedKey } from './processed-key';
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

function decideFailure(
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

/** The part of the conversation store that keeps each queue message's own attempts. */
export type AttemptCounter = Pick<ConversationStore, 'countAttempt' | 'resetAttempts'>;

/**
 * The failure policy as both queue consumers apply it: the failure counts against the message's
 * own attempts (key undefined: a body too broken to name its message counts as its first), then
 * `decideFailure`; a message leaving for the DLQ gets its attempts back, so a redrive gives it all
 * of them anew. A far side that said when to come back (a rate limit's reset) is waited for, not
 * counted: waiting out X's 15-per-15-minutes DM limit must never use up a reply's attempts.
 */
export async function decideFromAttempts(
  counter: AttemptCounter,
  key: ProcessedKey | undefined,
  err: unknown,
  policy: FailurePolicy,
  nowMs: number,
  random: () => number = Math.random,
): Promise<{ decision: FailureDecision; attempts: number }> {
  const toldWhen = err instanceof TransientError && err.retryAt !== undefined;
  const attempts = toldWhen ? 0 : key ? await counter.countAttempt(key) : 1;
  const decision = decideFailure(err, attempts, policy, nowMs, random);
  if (decision.kind === 'dead-letter' && key) await counter.resetAttempts(key);
  return { decision, attempts };
}
