import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { Env, pollerTimeoutSeconds, secretOf } from '../config';
import { closeByFourbiz, type Conversation } from '../core/conversation';
import { Metric } from '../core/metric-names';
import { mergeSynced, planReplySync, syncedOccurrencesOf, type KeptBackOccurrence, type ReplySyncPlan } from '../core/reply-sync';
import { AnswerTooLargeError, BridgeError, classifyError, ConfigurationError, FourbizAuthError } from '../core/errors';
import { withLease, type LeaseStore } from '../core/lease';
import { dynamoLeaseStore } from '../adapters/lease-store';
import { conversationStoreFor } from '../adapters/conversation-store';
import { CONFLICT_ATTEMPTS, withConflictRetry } from '../core/conflict-retry';
import { createTicketsClient, type TicketsClient } from '../adapters/fourbiz/tickets';
import { sqsOutboundQueue } from '../adapters/outbound-queue';
import { secretSourceFor } from '../adapters/secrets';
import { createObservability, type Observability } from '../observability';
import { wireOnFirstCall } from '../wiring';
import type { ConversationStore, OutboundQueue } from '../core/ports';

export interface PollerDeps extends Observability<'poller'> {
  store: ConversationStore;
  fourbiz: Pick<TicketsClient, 'getRequest' | 'listOccurrences'>;
  queue: Pick<OutboundQueue, 'send'>;
  /** One poll at a time: a slow run and the next scheduled one never sync the same conversations together. */
  leases: LeaseStore;
  /** How long a run may hold the lease (the function's timeout: a crashed run frees it by then). */
  leaseSeconds: number;
  /** The tenant's `fourbiz.closingMessage`. */
  closingMessage?: string;
  /** The tenant's `fourbiz.customerVisibleCategories`. */
  customerVisibleCategories?: readonly string[];
  /** The tenant's `fourbiz.answerMaxParts`. */
  answerMaxParts?: number;
  /** Conversations synced at the same time (each costs two 4biz calls). */
  concurrency?: number;
  clock?: () => number;
}

export interface PollSummary {
  /** False when another run held the lease: this one did nothing. */
  ran: boolean;
  conversations: number;
  queued: number;
  closed: number;
  failed: number;
}


/** The replies were read from 4biz but the outbound queue refused them (counted apart from 4biz errors). */
class NotQueued extends BridgeError {}

/**
 * The poller (tickets mode, on a schedule): for each open conversation with a 4biz request, the
 * agents' new occurrences and the solution of a finished request are queued as outbound messages,
 * then the conversation records how far it is synced (and closes when the request is finished).
 * Queue first, save second: a crash in between re-queues the same replies, which the queue's
 * de-duplication id and the sender's sent-marker absorb, so a reply is never sent twice.
 */
export function createPollerHandler(deps: PollerDeps) {
  const { logger, metrics, store, fourbiz, queue } = deps;
  const clock = deps.clock ?? Date.now;
  const concurrency = Math.max(1, deps.concurrency ?? 5);

  /** Applies the plan to the stored conversation, re-reading it when the dispatcher or sender wrote meanwhile. */
  function recordSync(polled: Conversation, plan: ReplySyncPlan): Promise<Conversation | undefined> {
    return withConflictRetry(CONFLICT_ATTEMPTS, async (attempt) => {
      const current = attempt === 0 ? polled : await store.get(polled.xUserId);
      // The user's next conversation may have started in the same item: this plan is not about it.
      if (!current || current.conversationId !== polled.conversationId) return undefined;
      const synced = mergeSynced(syncedOccurrencesOf(current), plan.synced);
      let next: Conversation = { ...current, lastSyncedOccurrenceId: synced.upTo, syncedOccurrenceIds: synced.ids };
      if (plan.close) next = closeByFourbiz(next, new Date(clock()));
      return store.save(next, current.version);
    });
  }

  /** Internal occurrences stay in 4biz: logged without their text, counted per category for the administrator. */
  function reportKeptBack(keys: Record<string, string>, keptBack: KeptBackOccurrence[]): void {
    for (const o of keptBack) {
      const category = o.category ?? '(none)';
      logger.info('occurrence kept in 4biz: its category is not customer-visible', { ...keys, occurrence: o.id, category });
      const perCategory = metrics.singleMetric();
      perCategory.addDimension('category', category);
      perCategory.addMetric(Metric.OccurrenceKeptInternal, MetricUnit.Count, 1);
    }
  }

  async function sync(conversation: Conversation & { requestNumber: string }): Promise<{ queued: number; closed: boolean }> {
    const keys = { xUserId: conversation.xUserId, requestNumber: conversation.requestNumber };
    const [request, occurrences] = await Promise.all([
      fourbiz.getRequest(conversation.requestNumber),
      fourbiz.listOccurrences(conversation.requestNumber),
    ]);
    const plan = planReplySync(conversation, request, occurrences, {
      closingMessage: deps.closingMessage,
      customerVisibleCategories: deps.customerVisibleCategories,
      answerMaxParts: deps.answerMaxParts,
    });
    reportKeptBack(keys, plan.keptBack);
    if (plan.outbound.length === 0 && !plan.syncedChanged && !plan.close) return { queued: 0, closed: false };

    if (plan.outbound.length > 0) {
      try {
        await queue.send(plan.outbound);
      } catch (err) {
        metrics.addMetric(Metric.EnqueueFailed, MetricUnit.Count, plan.outbound.length);
        throw new NotQueued(`outbound queue did not accept the replies: ${(err as Error).message}`);
      }
      logger.info('replies queued', { ...keys, sourceIds: plan.outbound.map((m) => m.sourceId) });
      metrics.addMetric(Metric.RepliesQueued, MetricUnit.Count, plan.outbound.length);
    }
    const saved = await recordSync(conversation, plan);
    if (plan.close && saved) {
      logger.info('4biz finished the request: conversation closed', { ...keys, status: request.status });
      metrics.addMetric(Metric.ConversationClosed, MetricUnit.Count, 1);
    }
    return { queued: plan.outbound.length, closed: plan.close && saved !== undefined };
  }

  async function pollAll(): Promise<PollSummary> {
    const open = (await store.listOpen()).filter((c): c is Conversation & { requestNumber: string } => c.requestNumber !== undefined);
    const summary: PollSummary = { ran: true, conversations: open.length, queued: 0, closed: 0, failed: 0 };
    let next = 0;
    const worker = async () => {
      while (next < open.length) {
        const conversation = open[next++];
        try {
          const out = await sync(conversation);
          summary.queued += out.queued;
          summary.closed += out.closed ? 1 : 0;
        } catch (err) {
          // One request failing must not hold up the others: the next poll tries it again.
          summary.failed++;
          const permanent = classifyError(err) === 'permanent';
          logger[permanent ? 'error' : 'warn']('could not sync a 4biz request; next poll tries again', {
            xUserId: conversation.xUserId,
            requestNumber: conversation.requestNumber,
            error: (err as Error).message,
          });
          if (err instanceof AnswerTooLargeError) metrics.addMetric(Metric.FourbizAnswerTooLarge, MetricUnit.Count, 1);
          if (err instanceof FourbizAuthError) metrics.addMetric(Metric.FourbizAuthFailure, MetricUnit.Count, 1);
          else if (!(err instanceof NotQueued)) metrics.addMetric(permanent ? Metric.FourbizPermanentError : Metric.FourbizTransientError, MetricUnit.Count, 1);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, open.length) }, worker));
    // Published on every run, none included: a flat line shows the poller runs and has nothing to do.
    metrics.addMetric(Metric.ConversationsPolled, MetricUnit.Count, open.length);
    logger.info('poll done', { ...summary });
    return summary;
  }

  const poller = async (_event: ScheduledEvent, context: Context): Promise<PollSummary> => {
    const holder = context?.awsRequestId || randomUUID();
    const run = await withLease(deps.leases, { name: 'poller', holder, ttlSeconds: deps.leaseSeconds }, pollAll);
    if (run.ran) return run.result;
    logger.info('another poll is still running: this one skips', { holder });
    return { ran: false, conversations: 0, queued: 0, closed: 0, failed: 0 };
  };

  return middy(poller).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

export const handler = wireOnFirstCall('poller', (config) => {
  const settings = config.fourbiz;
  if (settings.mode !== 'tickets') throw new ConfigurationError(`the poller runs in tickets mode only, ${Env.fourbiz} says "${settings.mode}"`);
  return createPollerHandler({
    ...createObservability(config.tenant),
    store: conversationStoreFor(config),
    leases: dynamoLeaseStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), config.tableName),
    leaseSeconds: pollerTimeoutSeconds(settings),
    closingMessage: settings.closingMessage,
    customerVisibleCategories: settings.customerVisibleCategories,
    answerMaxParts: settings.answerMaxParts,
    fourbiz: createTicketsClient(settings, secretSourceFor(secretOf(config))),
    queue: sqsOutboundQueue(new SQSClient({}), config.outboundQueueUrl),
  });
});
