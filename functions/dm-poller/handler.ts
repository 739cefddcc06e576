import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { secretOf } from '../config';
import { pollDmEvents, type DmPollResult } from '../core/dm-poll';
import { TransientError } from '../core/errors';
import { withLease, type LeaseStore } from '../core/lease';
import { Metric, type EmittedBy } from '../core/metric-names';
import { dynamoDmPollState } from '../adapters/dm-poll-state';
import { sqsInboundQueue } from '../adapters/inbound-queue';
import type { DmEventsSource, DmPollStateStore, InboundQueue } from '../core/ports';
import { dynamoLeaseStore } from '../adapters/lease-store';
import { secretSourceFor } from '../adapters/secrets';
import { XAuthError, XCreditsDepletedError } from '../adapters/x-errors';
import { XTokenRefreshError } from '../adapters/x-user-auth';
import { createDmEventsSource } from '../adapters/x-dm-events';
import { createObservability, type Observability } from '../observability';
import { wireOnFirstCall } from '../wiring';

export interface DmPollerDeps extends Observability<'dm-poller'> {
  source: DmEventsSource;
  queue: InboundQueue;
  state: DmPollStateStore;
  leases: LeaseStore;
  companyId: string;
  backfillMinutes: number;
  /** Pages one run may read; X allows 15 lookups per 15 minutes per user. */
  maxPages?: number;
  pageSizes?: { first: number; max: number };
  clock?: () => number;
}

export type DmPollSummary = { ran: false } | ({ ran: true; failed: boolean } & Pick<DmPollResult, 'outcome' | 'pages'> & { queued: number; skipped: number; malformed: number });

export const DM_POLLER_LEASE = 'dm-poller';
/** Kept below X's 15 lookups per 15 minutes, leaving room for the next scheduled runs. */
export const DM_POLL_MAX_PAGES = 10;

/**
 * The dm-poller (polling mode, on a schedule): one run at a time (a lease in the table), it reads
 * X's DM lookup down to its cursor and queues the new DMs on the inbound queue, where they follow
 * the webhook's DMs' path (dispatcher → relay or tickets). Everything it skips or cannot read is
 * logged and counted; a failed run loses nothing, the next run starts where this one stopped.
 */
export function createDmPollerHandler(deps: DmPollerDeps) {
  const { logger, metrics } = deps;
  const clock = deps.clock ?? Date.now;
  const count = (name: EmittedBy<'dm-poller'>, n = 1) => n > 0 && metrics.addMetric(name, MetricUnit.Count, n);

  /** The queue, counting what it refused (the run then fails before the cursor moves). */
  const countingRefusals = (queue: InboundQueue): InboundQueue => ({
    async send(messages) {
      try {
        await queue.send(messages);
      } catch (err) {
        count(Metric.EnqueueFailed, messages.length);
        throw err;
      }
    },
  });

  /** The DM lookup, counting the events X returned: X bills each (once per event per UTC day), so the tenant's X budget alarm reads this. */
  const countingReads = (source: DmEventsSource): DmEventsSource => ({
    async page(token, max) {
      const answer = await source.page(token, max);
      const data = (answer as { data?: unknown } | null)?.data;
      count(Metric.XDmEventsRead, Array.isArray(data) ? data.length : 0);
      return answer;
    },
  });

  function report(result: DmPollResult): boolean {
    for (const s of result.skipped) {
      logger.info(s.reason === 'own' ? "skipped the company's own DM" : `skipped a DM event (${s.reason})`, { eventId: s.id });
    }
    count(Metric.EchoDropped, result.skipped.filter((s) => s.reason === 'own').length);
    count(Metric.EventIgnored, result.skipped.filter((s) => s.reason !== 'own').length);
    for (const m of result.malformed) logger.warn('malformed DM event from X: not queued', { eventId: m.id, reason: m.reason });
    count(Metric.DmEventInvalid, result.malformed.length);

    const late = new Set(result.late);
    for (const m of result.queued) logger.info(late.has(m.eventId) ? "DM accepted (X's lookup showed it late, below DMs already read)" : 'DM accepted', { eventId: m.eventId, xUserId: m.sender.id });
    count(Metric.DmPolledLate, result.queued.filter((m) => late.has(m.eventId)).length);
    logger.debug('DM texts', { texts: result.queued.map((m) => m.text) });
    count(Metric.DmPolled, result.queued.length);
    if (result.queued.length > 0) {
      const newest = Math.max(...result.queued.map((m) => Number(m.createdTimestamp)));
      metrics.addMetric(Metric.DmPollLag, MetricUnit.Seconds, Math.max(0, (clock() - newest) / 1000));
    }

    if (result.outcome === 'rate-limited') {
      logger.info('X rate limit still in force: this run does not call X', { until: new Date(result.notBeforeMs).toISOString() });
      return false;
    }
    if (result.outcome !== 'interrupted') return false;
    const { cause } = result;
    if (!cause) {
      logger.info('DM backlog larger than one run reads: the next run continues', { pages: result.pages });
      return false;
    }
    if (cause instanceof TransientError && cause.status === 429) {
      logger.warn('X rate limited the DM lookup: the next run continues after the reset', {
        retryAt: cause.retryAt ? new Date(cause.retryAt).toISOString() : undefined,
      });
      count(Metric.DmPollRateLimited);
      return false;
    }
    if (cause instanceof XAuthError) {
      logger.error("X refused the tenant's keys for the DM lookup: fix the tenant secret", { status: cause.status, error: cause.message });
      count(Metric.XAuthFailure);
      if (cause instanceof XTokenRefreshError) count(Metric.XTokenRefreshFailed);
    } else if (cause instanceof XCreditsDepletedError) {
      logger.error("X says the app's pay-per-use credits are used up: DMs wait in X until there are credits again", { error: cause.message });
      count(Metric.XCreditsDepleted);
    } else {
      logger.error('DM lookup failed: the next run tries again', { error: cause.message });
    }
    count(Metric.DmPollFailed);
    return true;
  }

  const poller = async (_event: ScheduledEvent, context: Context): Promise<DmPollSummary> => {
    count(Metric.DmPollRuns);
    // The lease outlives this invocation's time budget, so a run cut off by its timeout blocks the next one only briefly.
    const lease = { name: DM_POLLER_LEASE, holder: context.awsRequestId, ttlSeconds: Math.ceil(context.getRemainingTimeInMillis() / 1000) + 30 };
    const out = await withLease(deps.leases, lease, async (): Promise<DmPollSummary> => {
      let result: DmPollResult;
      try {
        result = await pollDmEvents({ ...deps, source: countingReads(deps.source), queue: countingRefusals(deps.queue), maxPages: deps.maxPages ?? DM_POLL_MAX_PAGES, clock });
      } catch (err) {
        // The queue or the table failed after X answered: the cursor did not move, the next run reads the same DMs.
        logger.error('DM poll failed before the cursor moved: the next run reads the same DMs again', { error: (err as Error).message });
        count(Metric.DmPollFailed);
        return { ran: true, failed: true, outcome: 'interrupted', pages: 0, queued: 0, skipped: 0, malformed: 0 };
      }
      const failed = report(result);
      const summary = { ran: true as const, failed, outcome: result.outcome, pages: result.pages, queued: result.queued.length, skipped: result.skipped.length, malformed: result.malformed.length };
      // A quiet run (nothing new) logs at DEBUG: DmPollRuns shows the poller is alive.
      const quiet = result.outcome === 'caught-up' && summary.queued + summary.skipped + summary.malformed === 0;
      logger[quiet ? 'debug' : 'info']('DM poll done', { ...summary });
      return summary;
    });
    if (!out.ran) {
      logger.info('another DM poll is still running: this run does nothing');
      return { ran: false };
    }
    return out.result;
  };

  return middy(poller).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

export const handler = wireOnFirstCall('dm-poller', (config) => {
  const secrets = secretSourceFor(secretOf(config));
  const { tableName } = config;
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const leases = dynamoLeaseStore(doc, tableName);
  return createDmPollerHandler({
    ...createObservability(config.tenant),
    source: createDmEventsSource(secrets, { baseUrl: config.xApiBaseUrl, leases }),
    queue: sqsInboundQueue(new SQSClient({}), config.inboundQueueUrl),
    state: dynamoDmPollState(doc, tableName),
    leases,
    companyId: config.xAccountId,
    backfillMinutes: config.pollBackfillMinutes,
  });
});
