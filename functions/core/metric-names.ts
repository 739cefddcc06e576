/**
 * Custom metric names and their namespace: the handlers emit them and the dashboard and alarms
 * read them, so both import them from here.
 */
export const METRIC_NAMESPACE = '4bizTwitterDm';
export const SERVICE_NAME = '4biz-twitter-dm';

export const Metric = {
  CrcAnswered: 'CrcAnswered',
  CrcFailed: 'CrcFailed',
  /** A CRC request whose token is not shaped like X's (an attempt to use CRC as a signing oracle). */
  CrcRejected: 'CrcRejected',
  /** A delivery the webhook refused although it was correctly signed (or too large to check): X does not retry a 4xx. */
  WebhookRejected: 'WebhookRejected',
  /** A delivery without a valid signature (answered 401): anyone on the internet can cause it, so it is counted, not alarmed. */
  WebhookUnauthenticated: 'WebhookUnauthenticated',
  DmReceived: 'DmReceived',
  EchoDropped: 'EchoDropped',
  EventIgnored: 'EventIgnored',
  EnqueueFailed: 'EnqueueFailed',
  /** DMs the inbound queue refused, kept in the tenant's table instead (npm run dlq -- parked --requeue sends them on). */
  InboundParked: 'InboundParked',
  DeliveredTo4biz: 'DeliveredTo4biz',
  DuplicateSkipped: 'DuplicateSkipped',
  FourbizLatency: 'FourbizLatency',
  FourbizTransientError: 'FourbizTransientError',
  FourbizPermanentError: 'FourbizPermanentError',
  /** tickets mode: a 4biz answer over fourbiz.responseMaxBytes (that call failed, the run went on). */
  FourbizAnswerTooLarge: 'FourbizAnswerTooLarge',
  ConversationOpened: 'ConversationOpened',
  ConversationClosed: 'ConversationClosed',
  InvalidQueueMessage: 'InvalidQueueMessage',
  RepliesQueued: 'RepliesQueued',
  /** tickets mode: an agent's occurrence of a category not shown to the person (dimension `category`). */
  OccurrenceKeptInternal: 'OccurrenceKeptInternal',
  ConversationsPolled: 'ConversationsPolled',
  /** tickets mode: conversations due that a poller run left to the next one (its time budget ran out). */
  PollsDeferred: 'PollsDeferred',
  /** tickets mode: the longest an active conversation went between two polls, per run (seconds; target under 120). */
  ActivePollWaitSeconds: 'ActivePollWaitSeconds',
  DmSent: 'DmSent',
  /** tickets mode: seconds from an answer's queueing to its sending (X's limits, retries). */
  ReplyWaitSeconds: 'ReplyWaitSeconds',
  XRateLimited: 'XRateLimited',
  XAuthFailure: 'XAuthFailure',
  XTransientError: 'XTransientError',
  /** X answered 402 CreditsDepleted: the app's pay-per-use credits are used up (replies wait). */
  XCreditsDepleted: 'XCreditsDepleted',
  /** X's daily DM cap (per user or per app) or a usage cap was reached (replies wait until the reset). */
  XCapReached: 'XCapReached',
  /** Refreshing the tenant's OAuth 2.0 user token failed (X refused it, or it could not be stored). */
  XTokenRefreshFailed: 'XTokenRefreshFailed',
  ForeignAccountDropped: 'ForeignAccountDropped',
  OldDmReceived: 'OldDmReceived',
  /** The webhook got a DM older than the processed-record lifetime (a captured delivery sent again): acknowledged, not forwarded. */
  OldDmDropped: 'OldDmDropped',
  RecipientRefusedDm: 'RecipientRefusedDm',
  FourbizAuthFailure: 'FourbizAuthFailure',
  /** The 4biz outage circuit opened (DMs of several people failed), closed (a delivery succeeded). */
  FourbizOutageStarted: 'FourbizOutageStarted',
  FourbizOutageEnded: 'FourbizOutageEnded',
  /** A DM waited for an open outage circuit, without spending an attempt. */
  FourbizOutageWait: 'FourbizOutageWait',
  EncryptedDmReceived: 'EncryptedDmReceived',
  /** XChat on: a chat message that cannot be read, decrypted or verified was dropped (never its content logged). */
  XChatDropped: 'XChatDropped',
  /** XChat on: attachments of a chat message that were not forwarded (XChat media is not supported; the text is). */
  XChatAttachmentNotForwarded: 'XChatAttachmentNotForwarded',
  XAccessRevoked: 'XAccessRevoked',
  SecretNotFilled: 'SecretNotFilled',
  /** Webhook health: X says invalid after re-validation, or the app has no webhook for the URL. */
  WebhookInvalid: 'WebhookInvalid',
  /** Webhook health: X says valid but our endpoint fails the CRC check run the way X runs it. */
  WebhookUnreachable: 'WebhookUnreachable',
  WebhookRevalidated: 'WebhookRevalidated',
  WebhookReplayStarted: 'WebhookReplayStarted',
  WebhookReplayFailed: 'WebhookReplayFailed',
  /** Webhook health could not read X (network, keys, rate limit): nothing was decided this run. */
  WebhookCheckFailed: 'WebhookCheckFailed',
  /** Polling mode (GET /2/dm_events): DMs queued, runs, failed runs, 429s, lag, malformed events. */
  DmPolled: 'DmPolled',
  DmPollRuns: 'DmPollRuns',
  DmPollFailed: 'DmPollFailed',
  DmPollRateLimited: 'DmPollRateLimited',
  DmPollLag: 'DmPollLag',
  DmEventInvalid: 'DmEventInvalid',
  /** Polling mode: DMs X's lookup showed late (below the cursor) and the poll overlap queued. */
  DmPolledLate: 'DmPolledLate',
  /** DM events X's lookup returned: X bills each read (the tenant's X budget alarm). */
  XDmEventsRead: 'XDmEventsRead',
  SecretUnavailable: 'SecretUnavailable',
} as const;

export type MetricName = (typeof Metric)[keyof typeof Metric];

/**
 * The metrics each function emits. Its handler's `metrics` only accepts these names (its deps
 * extend `Observability<'crc'>`…, functions/observability.ts), a unit test holds each list to the
 * names the function's code uses, and the infra tests allow a tenant's dashboard and alarms only
 * the metrics of the functions it deploys. A new metric: add it to `Metric`, here, then use it.
 */
export const emittedBy = {
  crc: [Metric.CrcAnswered, Metric.CrcFailed, Metric.CrcRejected, Metric.SecretNotFilled],
  webhook: [
    Metric.DmReceived,
    Metric.EchoDropped,
    Metric.EncryptedDmReceived,
    Metric.EnqueueFailed,
    Metric.EventIgnored,
    Metric.ForeignAccountDropped,
    Metric.InboundParked,
    Metric.OldDmDropped,
    Metric.SecretNotFilled,
    Metric.SecretUnavailable,
    Metric.WebhookRejected,
    Metric.WebhookUnauthenticated,
    Metric.XAccessRevoked,
    Metric.XChatDropped,
  ],
  dispatcher: [
    Metric.ConversationClosed,
    Metric.ConversationOpened,
    Metric.DeliveredTo4biz,
    Metric.DuplicateSkipped,
    Metric.EventIgnored,
    Metric.FourbizAuthFailure,
    Metric.FourbizLatency,
    Metric.FourbizOutageEnded,
    Metric.FourbizOutageStarted,
    Metric.FourbizOutageWait,
    Metric.FourbizPermanentError,
    Metric.FourbizTransientError,
    Metric.InvalidQueueMessage,
    Metric.OldDmReceived,
    Metric.XChatAttachmentNotForwarded,
    Metric.XChatDropped,
  ],
  'webhook-health': [
    Metric.WebhookCheckFailed,
    Metric.WebhookInvalid,
    Metric.WebhookReplayFailed,
    Metric.WebhookReplayStarted,
    Metric.WebhookRevalidated,
    Metric.WebhookUnreachable,
  ],
  'dm-poller': [
    Metric.DmEventInvalid,
    Metric.DmPollFailed,
    Metric.DmPollLag,
    Metric.DmPollRateLimited,
    Metric.DmPollRuns,
    Metric.DmPolled,
    Metric.DmPolledLate,
    Metric.EchoDropped,
    Metric.EnqueueFailed,
    Metric.EventIgnored,
    Metric.XAuthFailure,
    Metric.XCreditsDepleted,
    Metric.XDmEventsRead,
    Metric.XTokenRefreshFailed,
  ],
  poller: [
    Metric.ActivePollWaitSeconds,
    Metric.ConversationClosed,
    Metric.ConversationsPolled,
    Metric.EnqueueFailed,
    Metric.FourbizAnswerTooLarge,
    Metric.FourbizAuthFailure,
    Metric.FourbizPermanentError,
    Metric.FourbizTransientError,
    Metric.OccurrenceKeptInternal,
    Metric.PollsDeferred,
    Metric.RepliesQueued,
  ],
  sender: [
    Metric.DmSent,
    Metric.DuplicateSkipped,
    Metric.InvalidQueueMessage,
    Metric.RecipientRefusedDm,
    Metric.ReplyWaitSeconds,
    Metric.XAuthFailure,
    Metric.XCapReached,
    Metric.XCreditsDepleted,
    Metric.XRateLimited,
    Metric.XTokenRefreshFailed,
    Metric.XTransientError,
  ],
} as const satisfies Record<string, readonly MetricName[]>;

/** A function that emits metrics, by its folder name under functions/ (as functions/config.ts names it). */
export type EmittingFunction = keyof typeof emittedBy;

/** The metric names function F emits. */
export type EmittedBy<F extends EmittingFunction> = (typeof emittedBy)[F][number];

/** Dimensions a metric carries besides service and tenant (the handler adds them to a single metric). */
export const extraDimensions: Partial<Record<MetricName, readonly string[]>> = {
  [Metric.OccurrenceKeptInternal]: ['category'],
};

/** Dimensions every metric of a tenant carries (Powertools adds `service`; we add `tenant`). */
export function metricDimensions(tenant: string): Record<string, string> {
  return { service: SERVICE_NAME, tenant };
}
