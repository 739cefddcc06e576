import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processFifoBatch } from '../fifo-batch';
import { Env, required } from '../config';
import { dispatchInbound } from '../core/dispatch';
import { Metric } from '../core/metric-names';
import { classifyError, PermanentError, TransientError } from '../core/errors';
import { backoffSeconds, secondsUntil, type BackoffOptions } from '../core/retry';
import { parseQueueBody } from '../core/queue-body';
import { inboundMessageSchema } from '../core/x-events';
import { conversationStoreFor } from '../adapters/conversation-store';
import { createFourBizClient } from '../adapters/fourbiz';
import { sqsInboundRedelivery, type InboundRedelivery } from '../adapters/inbound-redelivery';
import { secretSourceFor } from '../adapters/secrets';
import { createObservability, type Observability } from '../observability';
import { wireOnFirstCall } from '../wiring';
import type { ConversationStore, FourBizClient } from '../core/ports';

export interface DispatcherDeps extends Observability {
  store: ConversationStore;
  fourbiz: FourBizClient;
  redelivery: InboundRedelivery;
  idleMinutes: number;
  backoff: BackoffOptions;
  /**
   * Time one record may need (4biz timeout plus bookkeeping). A record is not started with less
   * than this left in the invocation: it is handed back at once instead of being cut off mid-way.
   */
  reserveMs?: number;
  /** Injected for deterministic tests. */
  random?: () => number;
  clock?: () => number;
}

/**
 * The dispatcher: inbound FIFO queue → 4biz, one message at a time per X user. Each record is
 * delivered once (processed-event record), or retried with back-off through its visibility
 * timeout (transient), or copied to the DLQ and acknowledged (permanent failure, invalid body).
 * Later records of a failed record's group are not processed ahead of it (skipGroupOnError).
 */
export function createDispatcherHandler(deps: DispatcherDeps) {
  const { logger, metrics, store, fourbiz, redelivery, idleMinutes, backoff } = deps;
  const random = deps.random ?? Math.random;
  const clock = deps.clock ?? Date.now;
  const reserveMs = deps.reserveMs ?? 6_000;

  const deadLetter = (record: SQSRecord, reason: string) =>
    redelivery.deadLetter({ messageId: record.messageId, body: record.body, groupId: record.attributes.MessageGroupId, reason });

  async function handleRecord(record: SQSRecord): Promise<void> {
    const parsed = parseQueueBody(record.body, inboundMessageSchema);
    if (!parsed.ok) {
      const reason = `not an inbound message: ${parsed.reason}`;
      logger.error('invalid inbound message: moved to the DLQ', { messageId: record.messageId, reason });
      metrics.addMetric(Metric.InvalidQueueMessage, MetricUnit.Count, 1);
      await deadLetter(record, reason);
      return;
    }
    const message = parsed.value;
    const keys = { eventId: message.eventId, xUserId: message.sender.id };
    try {
      const outcome = await dispatchInbound(message, {
        store,
        fourbiz,
        idleMinutes,
        clock,
        onOpened: (c) => {
          logger.info('conversation opened', { ...keys, conversationId: c.conversationId });
          metrics.addMetric(Metric.ConversationOpened, MetricUnit.Count, 1);
        },
        onClosed: (c) => {
          logger.info('idle conversation closed', { ...keys, conversationId: c.conversationId });
          metrics.addMetric(Metric.ConversationClosed, MetricUnit.Count, 1);
        },
      });
      if (outcome.kind === 'duplicate') {
        logger.info('event already delivered: acknowledged without a second delivery', keys);
        metrics.addMetric(Metric.DuplicateSkipped, MetricUnit.Count, 1);
        return;
      }
      logger.info('DM delivered to 4biz', { ...keys, conversationId: outcome.conversation.conversationId, latencyMs: outcome.latencyMs });
      metrics.addMetric(Metric.DeliveredTo4biz, MetricUnit.Count, 1);
      metrics.addMetric(Metric.FourbizLatency, MetricUnit.Milliseconds, outcome.latencyMs);
    } catch (err) {
      const reason = (err as Error).message;
      if (classifyError(err) === 'permanent') {
        logger.error('4biz refused the DM for good: moved to the DLQ', { ...keys, reason, status: (err as PermanentError).status });
        metrics.addMetric(Metric.FourbizPermanentError, MetricUnit.Count, 1);
        await deadLetter(record, reason);
        return;
      }
      await retryLater(record, err, keys);
      throw err;
    }
  }

  async function retryLater(record: SQSRecord, err: unknown, keys: Record<string, string>): Promise<void> {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
    const retryAt = err instanceof TransientError ? err.retryAt : undefined;
    const seconds = Math.max(backoffSeconds(receiveCount, backoff, random), retryAt ? secondsUntil(retryAt, clock()) : 0);
    if (err instanceof TransientError) {
      logger.warn('4biz delivery failed, will retry', { ...keys, reason: err.message, status: err.status, receiveCount, retryInSeconds: seconds });
      metrics.addMetric(Metric.FourbizTransientError, MetricUnit.Count, 1);
    } else {
      logger.error('dispatching failed, will retry', { ...keys, error: (err as Error).message, receiveCount, retryInSeconds: seconds });
    }
    try {
      await redelivery.retryLater(record.receiptHandle, seconds);
    } catch (e) {
      logger.warn('could not set the back-off: the message returns after the queue visibility timeout', { ...keys, error: (e as Error).message });
    }
  }

  const dispatcher = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const { response, handedBack } = await processFifoBatch(event, context, {
      handleRecord,
      retryLater: redelivery.retryLater,
      canStart: () => context.getRemainingTimeInMillis() >= reserveMs,
    });
    if (handedBack > 0) logger.info('records handed back unattempted', { count: handedBack, remainingMs: context.getRemainingTimeInMillis() });
    return response;
  };

  return middy(dispatcher).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

export const handler = wireOnFirstCall((config) => {
  const fourbizSettings = required(config.fourbiz, Env.fourbiz);
  return createDispatcherHandler({
    ...createObservability(config.tenant),
    store: conversationStoreFor(config),
    fourbiz: createFourBizClient(fourbizSettings, secretSourceFor(config.secret)),
    redelivery: sqsInboundRedelivery(new SQSClient({}), {
      queueUrl: required(config.inboundQueueUrl, Env.inboundQueueUrl),
      dlqUrl: required(config.inboundDlqUrl, Env.inboundDlqUrl),
    }),
    idleMinutes: config.conversationIdleMinutes,
    backoff: config.retry,
    reserveMs: fourbizSettings.timeoutMs + 1_000,
  });
});
