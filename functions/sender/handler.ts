import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processFifoBatch } from '../fifo-batch';
import { Env, required } from '../config';
import { recordOutbound } from '../core/conversation';
import { Metric } from '../core/metric-names';
import { outboundMessageSchema, type OutboundMessage } from '../core/outbound-message';
import { parseQueueBody } from '../core/queue-body';
import { splitForDm } from '../core/reply-format';
import { PermanentError, TransientError } from '../core/errors';
import { backoffSeconds, secondsUntil, type BackoffOptions } from '../core/retry';
import { conversationStoreFor } from '../adapters/conversation-store';
import { CONFLICT_ATTEMPTS, withConflictRetry } from '../core/conflict-retry';
import { sqsOutboundQueue } from '../adapters/outbound-queue';
import { secretSourceFor } from '../adapters/secrets';
import { createXClient, XAuthError } from '../adapters/x-client';
import { createObservability, type Observability } from '../observability';
import { wireOnFirstCall } from '../wiring';
import type { ConversationStore, OutboundQueue, XClient } from '../core/ports';

export interface SenderDeps extends Observability {
  store: ConversationStore;
  x: XClient;
  queue: Pick<OutboundQueue, 'delay'>;
  backoff: BackoffOptions;
  /** Injected for deterministic tests. */
  random?: () => number;
  clock?: () => number;
}


/** Processed-event keys: the whole outbound message, and each DM it was split into. */
const sentKey = (m: OutboundMessage) => `out:${m.sourceId}`;
const partKey = (m: OutboundMessage, part: number) => `out:${m.sourceId}#${part}`;

/**
 * The sender (tickets mode): outbound FIFO queue → X DMs, in order per person. Idempotent per
 * source id (and per DM part), so a redelivered message is not sent twice. X's 429 delays the
 * message until x-rate-limit-reset; refused keys fail loudly (metric, error log, DLQ).
 */
export function createSenderHandler(deps: SenderDeps) {
  const { logger, metrics, store, x, queue, backoff } = deps;
  const random = deps.random ?? Math.random;
  const clock = deps.clock ?? Date.now;

  /** Counts the message in its conversation and marks it sent, in one transaction. */
  function recordSent(m: OutboundMessage): Promise<void> {
    return withConflictRetry(CONFLICT_ATTEMPTS, async () => {
      const current = await store.get(m.xUserId);
      // The person's next conversation started meanwhile: the reply belongs to the closed one.
      if (!current || current.conversationId !== m.conversationId) return store.markProcessed(sentKey(m), m.xUserId);
      await store.saveDelivered(recordOutbound(current, new Date(clock())), current.version, sentKey(m));
    });
  }

  async function send(m: OutboundMessage, keys: Record<string, string>): Promise<void> {
    if (await store.isProcessed(sentKey(m))) {
      logger.info('reply already sent: acknowledged without sending again', keys);
      metrics.addMetric(Metric.DuplicateSkipped, MetricUnit.Count, 1);
      return;
    }
    const parts = splitForDm(m.text);
    for (const [i, text] of parts.entries()) {
      if (await store.isProcessed(partKey(m, i))) continue;
      await x.sendDm(m.recipientId, text);
      await store.markProcessed(partKey(m, i), m.xUserId);
      metrics.addMetric(Metric.DmSent, MetricUnit.Count, 1);
    }
    await recordSent(m);
    logger.info('reply sent as DM', { ...keys, parts: parts.length, kind: m.kind });
    logger.debug('reply text', { ...keys, text: m.text });
  }

  async function delay(record: SQSRecord, seconds: number, keys: Record<string, string>): Promise<void> {
    try {
      await queue.delay(record.receiptHandle, seconds);
    } catch (e) {
      logger.warn('could not delay the message: it returns after the queue visibility timeout', { ...keys, error: (e as Error).message });
    }
  }

  async function handleRecord(record: SQSRecord): Promise<void> {
    const parsed = parseQueueBody(record.body, outboundMessageSchema);
    if (!parsed.ok) {
      // Only the poller writes this queue: a body we cannot read is a bug, and retrying cannot fix it.
      logger.error('invalid outbound message dropped', { messageId: record.messageId, reason: parsed.reason });
      metrics.addMetric(Metric.InvalidQueueMessage, MetricUnit.Count, 1);
      return;
    }
    const m = parsed.value;
    const keys = { xUserId: m.xUserId, sourceId: m.sourceId, requestNumber: m.requestNumber };
    try {
      await send(m, keys);
    } catch (err) {
      const reason = (err as Error).message;
      if (err instanceof XAuthError) {
        logger.error('X refused the tenant\'s keys: fix the secret; the reply waits and then goes to the DLQ', { ...keys, reason, status: err.status });
        metrics.addMetric(Metric.XAuthFailure, MetricUnit.Count, 1);
      } else if (err instanceof TransientError && err.retryAt !== undefined) {
        const seconds = secondsUntil(err.retryAt, clock());
        logger.warn('X rate limit reached: the reply waits until the reset', { ...keys, retryInSeconds: seconds });
        metrics.addMetric(Metric.XRateLimited, MetricUnit.Count, 1);
        await delay(record, seconds, keys);
      } else if (err instanceof TransientError) {
        const seconds = backoffSeconds(Number(record.attributes.ApproximateReceiveCount) || 1, backoff, random);
        logger.warn('sending the DM failed, will retry', { ...keys, reason, status: err.status, retryInSeconds: seconds });
        metrics.addMetric(Metric.XTransientError, MetricUnit.Count, 1);
        await delay(record, seconds, keys);
      } else {
        logger.error(err instanceof PermanentError ? 'X refused the DM: it goes to the DLQ after its retries' : 'sending failed', { ...keys, reason });
      }
      throw err;
    }
  }

  const sender = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    (await processFifoBatch(event, context, { handleRecord, retryLater: queue.delay })).response;

  return middy(sender).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

export const handler = wireOnFirstCall((config) =>
  createSenderHandler({
    ...createObservability(config.tenant),
    store: conversationStoreFor(config),
    x: createXClient(secretSourceFor(config.secret), { baseUrl: config.xApiBaseUrl }),
    queue: sqsOutboundQueue(new SQSClient({}), required(config.outboundQueueUrl, Env.outboundQueueUrl)),
    backoff: config.retry,
  }),
);
