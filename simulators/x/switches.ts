/**
 * Where X's documents disagree or X answers in more than one shape, the simulator can answer either
 * way; tests flip these (sim.switches) to hold the bridge to every documented shape.
 */
export interface XSwitches {
  /**
   * `PUT /2/webhooks/:id` after a failed CRC: 200 `{data: {valid: false}}` (X's endpoint page), or a
   * 400 whose reason is `CrcValidationFailed` (the failure X lists for the same check).
   */
  revalidationFailure: 'valid-false' | 'CrcValidationFailed';
  /** `POST /2/activity/subscriptions`: `{data: {subscription}}` (OpenAPI) or `{data: [subscription], meta}` (X's quickstart). */
  activityCreated: 'subscription' | 'array';
  /**
   * Private X Activity events (`dm.*`, `chat.*`) with OAuth 1.0a: accepted (OpenAPI, and an
   * independent adapter's finding) or refused with 403, as X's docs demand OAuth 2.0 user context.
   */
  oauth1ForPrivateEvents: 'accepted' | 'refused';
}

export const defaultSwitches: XSwitches = { revalidationFailure: 'valid-false', activityCreated: 'subscription', oauth1ForPrivateEvents: 'accepted' };
