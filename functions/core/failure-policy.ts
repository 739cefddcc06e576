import { PermanentError, TransientError, WaitingError } from './errors';
import type { ConversationStore } from './ports';
import type { ProcessedKey } from './processed-key';
import { QUEUE_RETENTION_SECONDS } from './queue-limits';
import { backoffSeconds, secondsUntil, type BackoffOptions } from './retry';

/**
 * What happens to a queue message whose processing failed: retried after a back-off, or moved to
 * the DLQ now. Decided from that message's own attempts (counted in the table per event id),
 * never from SQS's receive count: on a FIFO queue the messages behind a failing one of the same
 * person are received (and counted) with it while never being tried.
 */
export type FailureDecision = { kind: 'retry'; inSeconds: number } | { kind: 'dead-letter'; reason: string };

export interface FailurePolicy {
  /** Attempts after which a message that keeps failing may go to the DLQ… */
  maxAttempts: number;
  /** …once it has also been failing this long: a 4biz outage of a few hours dead-letters nothing. */
  minRetrySeconds?: number;
  backoff: BackoffOptions;
}

/** Default attempts. The queues have no redrive policy: only this policy moves a message to the DLQ. */
export const DEFAULT_MAX_ATTEMPTS = 8;

/**
 * Default time a message keeps being retried before the DLQ. Dead-lettering early breaks a
 * person's order (their next DM becomes the head of the group and is delivered first), so it
 * happens only after an outage longer than most maintenance windows.
 */
const DEFAULT_MIN_RETRY_SECONDS = 6 * 3600;

/** The default back-off's cap (RETRY_MAX_SECONDS): the longest pause between two attempts. */
const DEFAULT_RETRY_MAX_SECONDS = 900;

/**
 * The longest a message that keeps failing (and is no longer shielded by the outage circuit)
 * stays in its queue under the default policy: its failing time, then every attempt at the
 * longest back-off. The tenant schema keeps an outage's wait plus this inside the queue's retention.
 */
export const FAILURE_POLICY_MAX_SECONDS = DEFAULT_MIN_RETRY_SECONDS + DEFAULT_MAX_ATTEMPTS * DEFAULT_RETRY_MAX_SECONDS;

/**
 * A message is never left to wait past this age: SQS would delete it at the retention (14 days)
 * without a trace, so it goes to the DLQ (kept 14 days more) before that, an hour to spare.
 */
const RETENTION_GUARD_MS = (QUEUE_RETENTION_SECONDS - 3600) * 1000;

function decideFailure(
  err: unknown,
  attempts: number,
  policy: FailurePolicy,
  nowMs: number,
  random: () => number = Math.random,
  failingForMs?: number,
): FailureDecision {
  const reason = (err as Error)?.message ?? String(err);
  if (err instanceof PermanentError) return { kind: 'dead-letter', reason };
  // Unknown age (no SentTimestamp): the attempts alone decide.
  const longEnough = failingForMs === undefined || failingForMs >= (policy.minRetrySeconds ?? DEFAULT_MIN_RETRY_SECONDS) * 1000;
  if (attempts >= policy.maxAttempts && longEnough && !(err instanceof WaitingError)) return { kind: 'dead-letter', reason: `failed ${attempts} attempts, last: ${reason}` };
  const retryAt = err instanceof TransientError ? err.retryAt : undefined;
  const inSeconds = Math.max(backoffSeconds(attempts, policy.backoff, random), retryAt ? secondsUntil(retryAt, nowMs) : 0);
  if (failingForMs !== undefined && failingForMs + inSeconds * 1000 > RETENTION_GUARD_MS) {
    return { kind: 'dead-letter', reason: `queued ${Math.round(failingForMs / 3600_000)} h: moved before the queue's retention deletes it; last: ${reason}` };
  }
  return { kind: 'retry', inSeconds };
}

/** The part of the conversation store that keeps each queue message's own attempts. */
export type AttemptCounter = Pick<ConversationStore, 'countAttempt' | 'resetAttempts'>;

/**
 * The failure policy as both queue consumers apply it: the failure counts against the message's
 * own attempts (key undefined: a body too broken to name its message counts as its first), then
 * `decideFailure`; a message leaving for the DLQ gets its attempts back, so a redrive gives it all
 * of them anew. A far side that said when to come back (a rate limit's reset) is waited for, not
 * counted: waiting out X's 15-per-15-minutes DM limit must never use up a reply's attempts.
 * `queuedAtMs` (SQS's SentTimestamp) says how long the message has been waiting.
 */
export async function decideFromAttempts(
  counter: AttemptCounter,
  key: ProcessedKey | undefined,
  err: unknown,
  policy: FailurePolicy,
  nowMs: number,
  random: () => number = Math.random,
  queuedAtMs?: number,
): Promise<{ decision: FailureDecision; attempts: number }> {
  const toldWhen = err instanceof TransientError && err.retryAt !== undefined;
  const attempts = toldWhen ? 0 : key ? await counter.countAttempt(key) : 1;
  const decision = decideFailure(err, attempts, policy, nowMs, random, queuedAtMs === undefined ? undefined : nowMs - queuedAtMs);
  if (decision.kind === 'dead-letter' && key) await counter.resetAttempts(key);
  return { decision, attempts };
}
