import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { Env, pollerTimeoutSeconds, secretOf, type TicketsSettings } from '../config';
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
import type { ConversationStore, OutboundQueue, PollMarksStore } from '../core/ports';
import { DEFAULT_POLL_POLICY, duePolls, everyMs, idlenessOf, keepOpen, type PollMarks, type PollPolicy } from '../core/poll-schedule';
import { dynamoPollMarks } from '../adapters/poll-marks-store';

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
  /** When each conversation was last polled: the next run starts with those waiting longest. */
  marks: PollMarksStore;
  /** Which conversations are due (core/poll-schedule: by idleness). */
  policy?: PollPolicy;
  /**
   * How long a run starts new polls (default half the lease): the ones started finish and the
   * marks are saved before the function's timeout; the rest wait for the next run, first in line.
   */
  budgetMs?: number;
  /** Conversations synced at the same time (each costs two 4biz calls). */
  concurrency?: number;
  clock?: () => number;
}

export interface PollSummary {
  /** False when another run held the lease: this one did nothing. */
  ran: boolean;
  /** Open conversations with a 4biz request. */
  conversations: number;
  /** Due by the schedule; of those, polled in this run and left to the next (the time budget ran out). */
  due: number;
  polled: number;
  deferred: number;
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
  const policy = deps.policy ?? DEFAULT_POLL_POLICY;

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
    // Status first, occurrences second: an answer an agent writes just before resolving is listed, never lost to the closing.
    const request = await fourbiz.getRequest(conversation.requestNumber);
    const occurrences = await fourbiz.listOccurrences(conversation.requestNumber);
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

  /** A sync that failed: logged and counted; the next due poll tries it again. */
  function reportFailure(conversation: Conversation & { requestNumber: string }, err: unknown): void {
    const permanent = classifyError(err) === 'permanent';
    logger[permanent ? 'error' : 'warn']('could not sync a 4biz request; its next poll tries again', {
      xUserId: conversation.xUserId,
      requestNumber: conversation.requestNumber,
      error: (err as Error).message,
    });
    if (err instanceof AnswerTooLargeError) metrics.addMetric(Metric.FourbizAnswerTooLarge, MetricUnit.Count, 1);
    if (err instanceof FourbizAuthError) metrics.addMetric(Metric.FourbizAuthFailure, MetricUnit.Count, 1);
    else if (!(err instanceof NotQueued)) metrics.addMetric(permanent ? Metric.FourbizPermanentError : Metric.FourbizTransientError, MetricUnit.Count, 1);
  }

  async function loadMarks(): Promise<PollMarks> {
    try {
      return await deps.marks.load();
    } catch (err) {
      logger.warn('could not read when conversations were last polled: all are due in this run', { error: (err as Error).message });
      return {};
    }
  }

  async function pollAll(): Promise<PollSummary> {
    const started = clock();
    const deadline = started + (deps.budgetMs ?? (deps.leaseSeconds * 1000) / 2);
    const open = (await store.listOpen()).filter((c): c is Conversation & { requestNumber: string } => c.requestNumber !== undefined);
    const before = await loadMarks();
    const marks = { ...before };
    const polledAt = new Map<string, number>();
    const due = duePolls(open, before, started, policy);
    const summary: PollSummary = { ran: true, conversations: open.length, due: due.length, polled: 0, deferred: 0, queued: 0, closed: 0, failed: 0 };
    let next = 0;
    const worker = async () => {
      // Active conversations come first in `due`: when time runs out, the idle ones wait for the next run.
      while (next < due.length && clock() < deadline) {
        const conversation = due[next++];
        // Marked with the run's start: an idle conversation due every 10 minutes is polled every 10 runs, not 11.
        marks[conversation.conversationId] = started;
        polledAt.set(conversation.conversationId, clock());
        summary.polled++;
        try {
          const out = await sync(conversation);
          summary.queued += out.queued;
          summary.closed += out.closed ? 1 : 0;
        } catch (err) {
          // One request failing must not hold up the others; it stays due, so the next run tries it again.
          summary.failed++;
          if (before[conversation.conversationId] === undefined) delete marks[conversation.conversationId];
          else marks[conversation.conversationId] = before[conversation.conversationId];
          reportFailure(conversation, err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
    summary.deferred = due.length - summary.polled;
    // One never polled and left over counts as due since this run (before those just polled): past twice its interval it goes before the active ones.
    for (const c of due.slice(next)) marks[c.conversationId] ??= started - everyMs(idlenessOf(c, started, policy), policy) - 1;
    await deps.marks.save(keepOpen(marks, open)).catch((err: unknown) => {
      logger.warn('could not save when conversations were polled: the next run polls them again', { error: (err as Error).message });
    });
    // The longest an active conversation went unpolled, ending with this run (the target: under two minutes).
    const waits = open
      .filter((c) => before[c.conversationId] !== undefined && idlenessOf(c, started, policy) === 'active')
      .map((c) => ((polledAt.get(c.conversationId) ?? clock()) - before[c.conversationId]) / 1000);
    if (waits.length > 0) metrics.addMetric(Metric.ActivePollWaitSeconds, MetricUnit.Seconds, Math.max(...waits));
    // Published on every run, none included: a flat line shows the poller runs and has nothing to do.
    metrics.addMetric(Metric.ConversationsPolled, MetricUnit.Count, summary.polled);
    metrics.addMetric(Metric.PollsDeferred, MetricUnit.Count, summary.deferred);
    if (summary.deferred > 0) logger.warn('the run\'s time budget ran out: the conversations left are polled first in the next run', { deferred: summary.deferred });
    logger.info('poll done', { ...summary });
    return summary;
  }

  const poller = async (_event: ScheduledEvent, context: Context): Promise<PollSummary> => {
    const holder = context?.awsRequestId || randomUUID();
    const run = await withLease(deps.leases, { name: 'poller', holder, ttlSeconds: deps.leaseSeconds }, pollAll);
    if (run.ran) return run.result;
    logger.info('another poll is still running: this one skips', { holder });
    return { ran: false, conversations: 0, due: 0, polled: 0, deferred: 0, queued: 0, closed: 0, failed: 0 };
  };

  return middy(poller).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

/** How long a run starts polls: its timeout less what the last ones may take (three 4biz calls each) and 5 s to save the marks. */
export function pollBudgetMs(settings: Pick<TicketsSettings, 'pollScheduleMinutes' | 'timeoutMs'>): number {
  return Math.max(5_000, pollerTimeoutSeconds(settings) * 1000 - 3 * settings.timeoutMs - 5_000);
}

export const handler = wireOnFirstCall('poller', (config) => {
  const settings = config.fourbiz;
  if (settings.mode !== 'tickets') throw new ConfigurationError(`the poller runs in tickets mode only, ${Env.fourbiz} says "${settings.mode}"`);
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  return createPollerHandler({
    ...createObservability(config.tenant),
    store: conversationStoreFor(config),
    leases: dynamoLeaseStore(doc, config.tableName),
    marks: dynamoPollMarks(doc, config.tableName),
    leaseSeconds: pollerTimeoutSeconds(settings),
    budgetMs: pollBudgetMs(settings),
    closingMessage: settings.closingMessage,
    customerVisibleCategories: settings.customerVisibleCategories,
    answerMaxParts: settings.answerMaxParts,
    fourbiz: createTicketsClient(settings, secretSourceFor(secretOf(config))),
    queue: sqsOutboundQueue(new SQSClient({}), config.outboundQueueUrl),
  });
});
