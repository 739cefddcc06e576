import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processFifoBatch, queuedAt } from '../fifo-batch';
import { retryOf, secretOf } from '../config';
import { recordOutbound } from '../core/conversation';
import { Metric } from '../core/metric-names';
import { outboundMessageSchema, type OutboundMessage } from '../core/outbound-message';
import { parseQueueBody } from '../core/queue-body';
import { splitForDm } from '../core/reply-format';
import { InvalidQueueMessageError, PermanentError, TransientError } from '../core/errors';
import { DEFAULT_MAX_ATTEMPTS, decideFromAttempts, type FailureDecision } from '../core/failure-policy';
import { processedKey } from '../core/processed-key';
import type { BackoffOptions } from '../core/retry';
import { conversationStoreFor } from '../adapters/conversation-store';
import { CONFLICT_ATTEMPTS, withConflictRetry } from '../core/conflict-retry';
import { sqsQueueControl } from '../adapters/queue-control';
import { secretSourceFor } from '../adapters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createXClient } from '../adapters/x-client';
import { xchatReplier, xchatSetup } from '../adapters/xchat-setup';
import { dynamoLeaseStore } from '../adapters/lease-store';
import { XTokenRefreshError } from '../adapters/x-user-auth';
import { RecipientRefusedError, XAuthError, XCapReachedError, XCreditsDepletedError, XOutcomeUnknownError } from '../adapters/x-errors';
import { createObservability, type Observability } from '../observability';
import { wireOnFirstCall } from '../wiring';
import type { ConversationStore, QueueControl, XClient } from '../core/ports';
import type { XChatReplier, XChatReply } from '../core/xchat';

export interface SenderDeps extends Observability<'sender'> {
  store: ConversationStore;
  x: XClient;
  /** XChat on: answers to a person whose conversation came from XChat go back there, encrypted. */
  xchat?: XChatReplier;
  queue: QueueControl;
  backoff: BackoffOptions;
  /** Failed attempts after which a reply goes to the outbound DLQ. */
  maxAttempts?: number;
  /** Injected for deterministic tests. */
  random?: () => number;
  clock?: () => number;
}

/** Sent-markers (their own key space): the whole outbound message, and each DM it was split into. */
const sentKey = (m: OutboundMessage) => processedKey.sent(m.sourceId);
const partKey = (m: OutboundMessage, part: number) => processedKey.sent(`${m.sourceId}#${part}`);
/** A DM part whose send X may have stored without us hearing it (no answer, a 5xx): look before sending it again. */
const unsureKey = (m: OutboundMessage, part: number) => processedKey.sent(`${m.sourceId}#${part}#unsure`);
/** Slack between the queue's clock and X's when matching a DM we may have sent. */
const CLOCK_SLACK_MS = 60_000;

/** A body that is not an outbound message: to the outbound DLQ (retrying cannot fix it). */

/**
 * The sender (tickets mode): outbound FIFO queue → X DMs, in order per person. Idempotent per
 * source id (and per DM part), so a redelivered message is not sent twice. X's 429 delays the
 * message until x-rate-limit-reset; refused keys fail loudly (metric, error log) and are retried;
 * a person who refuses DMs sends that reply to the DLQ with the reason.
 */
export function createSenderHandler(deps: SenderDeps) {
  const { logger, metrics, store, x, queue, backoff } = deps;
  const random = deps.random ?? Math.random;
  const clock = deps.clock ?? Date.now;
  const policy = { maxAttempts: deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, backoff };

  /** Counts the message in its conversation and marks it sent, in one transaction. */
  function recordSent(m: OutboundMessage): Promise<void> {
    return withConflictRetry(CONFLICT_ATTEMPTS, async () => {
      const current = await store.get(m.xUserId);
      // The person's next conversation started meanwhile: the reply belongs to the closed one.
      if (!current || current.conversationId !== m.conversationId) return store.markProcessed(sentKey(m), m.xUserId);
      await store.saveDelivered(recordOutbound(current, new Date(clock())), current.version, sentKey(m));
    });
  }

  /**
   * Sends one part, unless an earlier attempt X may have stored is there already: only a part
   * marked unsure pays for the look (one lookup of a few billed events, DMs since it was queued).
   */
  async function sendPart(m: OutboundMessage, part: number, text: string, queued: number | undefined, keys: Record<string, string>): Promise<void> {
    if (await store.isProcessed(unsureKey(m, part))) {
      const found = await x.findSentDm(m.recipientId, text, queued === undefined ? undefined : queued - CLOCK_SLACK_MS).catch((err: unknown) => {
        // X will not answer this lookup (e.g. the route is not in the app's tier): sending again beats losing the reply.
        if (!(err instanceof PermanentError)) throw err;
        logger.warn('cannot look for a DM X may have stored: sending it again', { ...keys, part, reason: err.message });
        return undefined;
      });
      if (found) {
        logger.info('X had stored the DM part whose answer was lost: not sent again', { ...keys, part, dmEventId: found.dmEventId });
        metrics.addMetric(Metric.DuplicateSkipped, MetricUnit.Count, 1);
        return;
      }
    }
    try {
      await x.sendDm(m.recipientId, text);
    } catch (err) {
      if (err instanceof XOutcomeUnknownError) await store.markProcessed(unsureKey(m, part), m.xUserId);
      throw err;
    }
    metrics.addMetric(Metric.DmSent, MetricUnit.Count, 1);
  }

  /**
   * The XChat conversation the person wrote from (and their last message there, which the answer
   * replies to), when XChat is on and the reply is for that conversation.
   */
  async function xchatConversationOf(m: OutboundMessage): Promise<Omit<XChatReply, 'text' | 'outboxId'> | undefined> {
    if (!deps.xchat) return undefined;
    const current = await store.get(m.xUserId);
    if (current?.conversationId !== m.conversationId || !current.xchatConversationId || !current.lastDeliveredEventId) return undefined;
    return { conversationId: current.xchatConversationId, replyTo: { sequenceId: current.lastDeliveredEventId, senderId: current.xUserId } };
  }

  async function send(m: OutboundMessage, keys: Record<string, string>, queued: number | undefined): Promise<void> {
    if (await store.isProcessed(sentKey(m))) {
      logger.info('reply already sent: acknowledged without sending again', keys);
      metrics.addMetric(Metric.DuplicateSkipped, MetricUnit.Count, 1);
      return;
    }
    const parts = splitForDm(m.text);
    const xchatConversation = await xchatConversationOf(m);
    for (const [i, text] of parts.entries()) {
      if (await store.isProcessed(partKey(m, i))) continue;
      if (xchatConversation) {
        await deps.xchat!.sendReply({ ...xchatConversation, text, outboxId: `${m.sourceId}#${i}` });
        metrics.addMetric(Metric.DmSent, MetricUnit.Count, 1);
      } else await sendPart(m, i, text, queued, keys);
      await store.markProcessed(partKey(m, i), m.xUserId);
    }
    await recordSent(m);
    // How long the answer waited in the queue (X's rate limits and daily caps, retries): on the dashboard.
    if (queued !== undefined) metrics.addMetric(Metric.ReplyWaitSeconds, MetricUnit.Seconds, Math.max(0, clock() - queued) / 1000);
    logger.info(xchatConversation ? 'reply sent encrypted in XChat' : 'reply sent as DM', { ...keys, parts: parts.length, kind: m.kind });
    logger.debug('reply text', { ...keys, text: m.text });
  }

  async function handleRecord(record: SQSRecord): Promise<void> {
    const parsed = parseQueueBody(record.body, outboundMessageSchema);
    if (!parsed.ok) {
      metrics.addMetric(Metric.InvalidQueueMessage, MetricUnit.Count, 1);
      throw new InvalidQueueMessageError(`not an outbound message: ${parsed.reason}`);
    }
    const m = parsed.value;
    await send(m, { xUserId: m.xUserId, sourceId: m.sourceId, requestNumber: m.requestNumber }, queuedAt(record));
  }

  /** The shared failure policy, fed with this reply's own attempts. */
  async function onFailure(record: SQSRecord, err: unknown): Promise<FailureDecision> {
    const reason = (err as Error)?.message ?? String(err);
    if (err instanceof InvalidQueueMessageError) {
      // Only the poller writes this queue: a body we cannot read is a bug; kept in the DLQ for a look.
      logger.error('invalid outbound message: moved to the outbound DLQ', { messageId: record.messageId, reason });
      return { kind: 'dead-letter', reason };
    }
    const parsed = parseQueueBody(record.body, outboundMessageSchema);
    const keys = parsed.ok ? { xUserId: parsed.value.xUserId, sourceId: parsed.value.sourceId } : { messageId: record.messageId };
    const { decision, attempts } = await decideFromAttempts(store, parsed.ok ? sentKey(parsed.value) : undefined, err, policy, clock(), random, queuedAt(record));
    if (err instanceof XAuthError) {
      logger.error('X refused the tenant\'s keys: fix the secret; the reply is retried meanwhile', { ...keys, reason, status: err.status, attempts });
      metrics.addMetric(Metric.XAuthFailure, MetricUnit.Count, 1);
      if (err instanceof XTokenRefreshError) metrics.addMetric(Metric.XTokenRefreshFailed, MetricUnit.Count, 1);
    } else if (err instanceof RecipientRefusedError) {
      logger.warn('the person does not accept DMs from the account: reply moved to the outbound DLQ', { ...keys, reason });
      metrics.addMetric(Metric.RecipientRefusedDm, MetricUnit.Count, 1);
    } else if (err instanceof XCreditsDepletedError) {
      logger.error('X says the app\'s pay-per-use credits are used up: the reply waits until there are credits again', { ...keys, reason, attempts, decision });
      metrics.addMetric(Metric.XCreditsDepleted, MetricUnit.Count, 1);
    } else if (err instanceof XCapReachedError) {
      logger.warn('X\'s daily DM cap or usage cap is reached: the reply waits until it resets', { ...keys, reason, retryAt: err.retryAt, decision });
      metrics.addMetric(Metric.XCapReached, MetricUnit.Count, 1);
    } else if (err instanceof TransientError && err.retryAt !== undefined) {
      logger.warn('X rate limit reached: the reply waits until the reset', { ...keys, decision });
      metrics.addMetric(Metric.XRateLimited, MetricUnit.Count, 1);
    } else if (err instanceof TransientError) {
      logger.warn('sending the DM failed', { ...keys, reason, status: err.status, attempts, decision });
      metrics.addMetric(Metric.XTransientError, MetricUnit.Count, 1);
    } else {
      logger.error(err instanceof PermanentError ? 'X refused the DM: moved to the outbound DLQ' : 'sending failed', { ...keys, reason, attempts, decision });
    }
    return decision;
  }

  const sender = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    (
      await processFifoBatch(event, context, {
        handleRecord,
        onFailure,
        queue,
        onQueueError: (what, e) => logger.warn(`could not set the ${what}: the message returns after the queue visibility timeout`, { error: (e as Error).message }),
      })
    ).response;

  return middy(sender).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

export const handler = wireOnFirstCall('sender', (config) => {
  const secrets = secretSourceFor(secretOf(config));
  return createSenderHandler({
    ...createObservability(config.tenant),
    store: conversationStoreFor(config),
    x: createXClient(secrets, {
      baseUrl: config.xApiBaseUrl,
      leases: dynamoLeaseStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), config.tableName),
    }),
    xchat: config.xchat ? xchatReplier(xchatSetup(config, secrets)) : undefined,
    queue: sqsQueueControl(new SQSClient({}), {
      queueUrl: config.outboundQueueUrl,
      dlqUrl: config.outboundDlqUrl,
    }),
    backoff: retryOf(config),
    maxAttempts: config.maxAttempts,
  });
});
