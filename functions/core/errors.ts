/**
 * The bridge's one error family. Every class sets `name` to its own and keeps `cause`; code tests
 * `instanceof`, never `name`. One place decides retry, DLQ or drop from these classes alone:
 * Permanent (retrying cannot help: bad input, a 4xx that will not change) goes to the DLQ;
 * Transient (timeouts, 5xx, 408/429, throttling) is retried with back-off, at `retryAt` when the
 * far side said when to come back.
 */
export class BridgeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class PermanentError extends BridgeError {
  constructor(message: string, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class TransientError extends BridgeError {
  /** `retryAt`: when the far side told us to come back (e.g. X's x-rate-limit-reset), epoch ms. */
  constructor(message: string, readonly status?: number, readonly retryAt?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * 4biz refused the bridge's credentials (a 401/403, a refused login). Someone must fix them, but
 * the DM is not at fault: it is retried with back-off (and counted, FourbizAuthFailure) until its
 * attempts are used up, never sent to the DLQ at once.
 */
export class FourbizAuthError extends TransientError {}

/**
 * An answer larger than the tenant allows (tickets mode's `fourbiz.responseMaxBytes`): that call
 * fails, counted (FourbizAnswerTooLarge), and is tried again later like any passing fault.
 */
export class AnswerTooLargeError extends TransientError {}

/** A queue message whose body is not what its queue carries: kept in the DLQ for a look, never retried. */
export class InvalidQueueMessageError extends PermanentError {}

/** Another writer changed the record since it was read (optimistic locking). */
export class ConflictError extends BridgeError {}

/** A function or CLI is configured wrongly: nothing to retry until someone fixes it. */
export class ConfigurationError extends BridgeError {}

/** The tenant secret exists but holds no value yet (a fresh deploy): the operator must fill it. */
export class SecretNotFilledError extends ConfigurationError {}

export type ErrorClass = 'permanent' | 'transient';

/** Classifies an HTTP status from a downstream API. 2xx never reaches here. */
export function classifyHttpStatus(status: number): ErrorClass {
  if (status === 408 || status === 429 || status >= 500) return 'transient';
  return status >= 400 ? 'permanent' : 'transient';
}

/** The error class for a downstream HTTP status: the one place that maps a status to a class. */
export function errorForHttpStatus(status: number, message: string, retryAt?: number): PermanentError | TransientError {
  return classifyHttpStatus(status) === 'permanent' ? new PermanentError(message, status) : new TransientError(message, status, retryAt);
}

/**
 * The answers from 4biz (the relay callback or its REST API) that say the DM itself is wrong:
 * malformed (400), too large (413), of a type it does not take (415), unprocessable (422). Sent
 * again, the same DM gets the same answer, so it goes to the DLQ at once.
 */
const FOURBIZ_DM_REFUSED = new Set([400, 413, 415, 422]);

/**
 * A 4biz answer that is not a success, as an error. Only FOURBIZ_DM_REFUSED from 4biz itself is
 * permanent. Everything else is transient, retried within the DM's own attempts: a redeploy
 * answers 404, a redirect to a maintenance page (3xx, never followed) or a proxy's HTML error
 * page, none of which says anything about the DM. An HTML page with a "DM refused" status is a
 * proxy's too. 401/403 are the callers' (the bridge's credentials, FourbizAuthError).
 */
export function fourbizHttpError(status: number, message: string, contentType?: string | null): PermanentError | TransientError {
  const html = /\bhtml\b/i.test(contentType ?? '');
  return FOURBIZ_DM_REFUSED.has(status) && !html ? new PermanentError(message, status) : new TransientError(message, status);
}

/** Anything not explicitly permanent is transient: losing a message is worse than one more retry. */
export function classifyError(err: unknown): ErrorClass {
  return err instanceof PermanentError ? 'permanent' : 'transient';
}

/**
 * The message waits for something the bridge itself will do, not for a fault to be fixed: retried
 * with back-off like a failure, but never dead-lettered for its attempts.
 */
export class WaitingError extends TransientError {}

/**
 * 4biz fails for everyone (the outage circuit is open): the DM is not tried, and waits until
 * `retryAt` without spending an attempt (core/outage-circuit.ts).
 */
export class OutageWaitError extends WaitingError {}

/**
 * tickets mode: the DM's 4biz request is already finished but its conversation not closed yet. Not
 * a failure: the DM waits (retried with back-off) until the poller has sent the last answers and
 * closed the conversation, then opens the next request.
 */
export class RequestFinishedError extends WaitingError {}
