import { ApiPartialResponseError, ApiRequestError, ApiResponseError } from 'twitter-api-v2';
import { errorForHttpStatus, PermanentError, TransientError, WaitingError } from '../core/errors';

/**
 * X's failures by their type (X's response-codes page, its rate-limit page, DESIGN §2): each
 * becomes one of our error classes, and the failure policy decides from the class alone.
 */

/** The command that fixes an OAuth 2.0 problem; the CLI and the logs say it. */
export const AUTHORIZE_HINT = 'npm run x -- authorize --tenant NAME';

/** X's problem type for the wrong kind of authentication on a route (e.g. OAuth 1.0a where X wants OAuth 2.0). */
export const UNSUPPORTED_AUTH = /\/problems\/unsupported-authentication$/;

/** What switches the tenant's user context when X refuses the kind it used. */
export const OTHER_USER_CONTEXT_HINT = `X wants the other kind of user context here: for OAuth 2.0 run ${AUTHORIZE_HINT}; to go back to OAuth 1.0a set userAuth "oauth1a" in the tenant secret`;

/**
 * X refused the tenant's keys or tokens (401, or a 403 without X's markers of a person refusing
 * DMs): someone must fix them; the reply is not at fault, so it is retried with back-off meanwhile.
 */
export class XAuthError extends TransientError {}

/** X refused this reply because the person does not accept DMs from the account (or blocked it). */
export class RecipientRefusedError extends PermanentError {}

/**
 * 402 CreditsDepleted: the app's pay-per-use credits are used up. Nothing is wrong with the
 * message: it waits (back-off up to the configured maximum) until someone buys credits, and is
 * never dead-lettered for it.
 */
export class XCreditsDepletedError extends WaitingError {}

/**
 * A cap, not the 15-minute limit: the daily DM caps (1,440 per user and per app) or a
 * `usage-capped` 429. The message waits until the reset X announced (`retryAt`), or with back-off
 * when X did not say; never dead-lettered for it.
 */
export class XCapReachedError extends WaitingError {}

/**
 * X may have done what was asked without us hearing it: no answer within the deadline, the
 * connection lost, or a 5xx (X has stored DMs and then answered 503). Retried like any transient
 * failure; a caller that must not do it twice looks first.
 */
export class XOutcomeUnknownError extends TransientError {}

/**
 * X's markers of a person who does not accept DMs from the account, or blocked it: v1.1's error
 * codes 150 ("You cannot send messages to users who are not following you") and 349 ("You cannot
 * send messages to this user"), which v2 carries over in its messages. X's DM pages answer 403
 * also for missing scopes or permissions ("Check scopes and user permissions"): without a marker a
 * 403 is the keys' problem, never the reply's.
 */
const REFUSAL_CODES = new Set([150, 349]);
const REFUSAL_TEXT = /you cannot send messages to (this user|users who are not following you)|not following you|you have been blocked|has blocked you|not accepting (direct )?messages/i;

function refusesDms(data: unknown): boolean {
  const d = (data ?? {}) as { detail?: unknown; title?: unknown; errors?: Array<{ code?: unknown; message?: unknown; detail?: unknown }> };
  const errors = Array.isArray(d.errors) ? d.errors : [];
  if (errors.some((e) => REFUSAL_CODES.has(Number(e?.code)))) return true;
  const texts = [d.detail, d.title, ...errors.flatMap((e) => [e?.message, e?.detail])];
  return texts.some((t) => typeof t === 'string' && REFUSAL_TEXT.test(t));
}

const header = (err: ApiResponseError, name: string): number => {
  const value = err.headers?.[name];
  return Number(Array.isArray(value) ? value[0] : value);
};

/** An epoch-seconds header as epoch ms, or undefined when absent or nonsense. */
function resetMs(err: ApiResponseError, name: string): number | undefined {
  const seconds = header(err, name);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

const USAGE_CAPPED = /\/problems\/usage-capped$/;

/** A 429 as a cap (daily caps, usage cap) with its reset, or as the 15-minute rate limit. */
function tooMany(err: ApiResponseError, detail: string, now: number): TransientError {
  const userCap = header(err, 'x-user-limit-24hour-remaining') === 0 ? resetMs(err, 'x-user-limit-24hour-reset') : undefined;
  const appCap = header(err, 'x-app-limit-24hour-remaining') === 0 ? resetMs(err, 'x-app-limit-24hour-reset') : undefined;
  if (userCap !== undefined || appCap !== undefined) {
    const which = userCap !== undefined && appCap !== undefined ? 'user and app' : userCap !== undefined ? 'user' : 'app';
    return new XCapReachedError(`${detail}: the daily DM cap (${which}) is reached`, 429, Math.max(userCap ?? 0, appCap ?? 0));
  }
  const data = (err.data ?? {}) as { type?: unknown };
  if (typeof data.type === 'string' && USAGE_CAPPED.test(data.type)) {
    return new XCapReachedError(`${detail}: the app's usage cap is reached`, 429, resetMs(err, 'x-rate-limit-reset'));
  }
  return new TransientError(`${detail}: rate limited`, 429, resetMs(err, 'x-rate-limit-reset') ?? now + 60_000);
}

/** twitter-api-v2's errors as our error classes. */
export function classifyXError(err: unknown, now: number): Error {
  if (err instanceof ApiResponseError) {
    const classified = classifyAnswer(err, now);
    // X's answer stays at hand for whoever explains the failure (the CLI's describeXError).
    classified.cause ??= err;
    return classified;
  }
  // No answer within the deadline, a lost connection, a truncated answer.
  const cause = err instanceof ApiRequestError ? err.requestError : err instanceof ApiPartialResponseError ? err.responseError : undefined;
  const reason = (cause as Error | undefined)?.message ?? (err as Error)?.message ?? String(err);
  return new XOutcomeUnknownError(`X did not answer: ${reason}`, undefined, undefined, { cause: err });
}

function classifyAnswer(err: ApiResponseError, now: number): Error {
  const status = err.code;
  const detail = `X answered HTTP ${status}${err.data?.title ? ` (${err.data.title})` : ''}`;
  if (status === 402) return new XCreditsDepletedError(`${detail}: the app's pay-per-use credits are used up`, status);
  if (status === 429) return tooMany(err, detail, now);
  if (status === 403 && refusesDms(err.data)) return new RecipientRefusedError(`${detail}: the person does not accept DMs from the account`, status);
  const type = (err.data as { type?: unknown } | undefined)?.type;
  if (status === 403 && typeof type === 'string' && UNSUPPORTED_AUTH.test(type)) return new XAuthError(`${detail}: ${OTHER_USER_CONTEXT_HINT}`, status);
  if (status === 401 || status === 403) return new XAuthError(`${detail}: X refused the tenant's keys or tokens, or the app's permissions`, status);
  if (status === 408 || status >= 500) return new XOutcomeUnknownError(detail, status);
  return errorForHttpStatus(status, detail);
}
