import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { secretOf, type TenantSecret } from '../config';
import { Metric, type EmittedBy } from '../core/metric-names';
import type { WebhookHealthStore, XWebhookApi } from '../core/ports';
import { checkWebhookHealth, type WebhookHealth } from '../core/webhook-health';
import { crcSelfCheck } from '../adapters/crc-probe';
import { secretSourceFor, type SecretSource } from '../adapters/secrets';
import { dynamoWebhookHealthStore } from '../adapters/webhook-health-store';
import { describeXError, twitterWebhookApi } from '../adapters/x-webhooks';
import { createObservability, type Observability } from '../observability';
import { wireOnFirstCall } from '../wiring';

export interface WebhookHealthHandlerDeps extends Observability<'webhook-health'> {
  secrets: SecretSource;
  /** X's webhook API with the tenant's keys (the app bearer token: the secret's, or fetched with the consumer key and secret). */
  xApi(keys: TenantSecret): XWebhookApi;
  store: WebhookHealthStore;
  webhookUrl: string;
  probe?: typeof crcSelfCheck;
  clock?: () => number;
}

/** Every 15 minutes: validate → core → metrics and logs. Never throws: the next run starts over. */
export function createWebhookHealthHandler(deps: WebhookHealthHandlerDeps) {
  const { logger, metrics, secrets, store, webhookUrl } = deps;
  const probe = deps.probe ?? crcSelfCheck;
  const count = (name: EmittedBy<'webhook-health'>): void => {
    metrics.addMetric(name, MetricUnit.Count, 1);
  };

  function report(health: WebhookHealth): void {
    switch (health.status) {
      case 'missing':
        logger.error('no X webhook is registered for the tenant URL: X delivers nothing (npm run x -- register)', { webhookUrl, webhooksOfApp: health.webhooks });
        return count(Metric.WebhookInvalid);
      case 'invalid':
        logger.error('X keeps the webhook invalid after re-validation: X delivers nothing until its CRC check passes', {
          webhookId: health.webhook.id,
          failedRevalidations: health.failedRevalidations,
          lastGoodAt: health.since && new Date(health.since).toISOString(),
        });
        return count(Metric.WebhookInvalid);
      case 'unreachable':
        // Not a replay: X still calls the webhook valid, and our own check can fail for reasons of our own (a 429 of the stage throttle).
        logger.error('the webhook endpoint fails the CRC check run as X runs it: X deliveries may fail meanwhile', {
          webhookId: health.webhook.id,
          probe: health.probe,
          lastGoodAt: health.since && new Date(health.since).toISOString(),
        });
        return count(Metric.WebhookUnreachable);
      case 'healthy':
        if (health.revalidated) {
          logger.warn('X re-validated the webhook', { webhookId: health.webhook.id });
          count(Metric.WebhookRevalidated);
        }
        if (health.replay) {
          logger.warn('asked X to replay the gap', { webhookId: health.webhook.id, jobId: health.replay.jobId, ...health.replay.window });
          count(Metric.WebhookReplayStarted);
        }
        if (health.replayError) {
          logger.error('X did not accept the replay of the gap; the next run asks again', { webhookId: health.webhook.id, error: describeXError(health.replayError) });
          count(Metric.WebhookReplayFailed);
        }
        if (health.replayHeld) logger.warn('a gap X did not deliver is not replayed this run', { webhookId: health.webhook.id, reason: health.replayHeld });
        if (!health.revalidated && !health.replay && !health.replayError && !health.replayHeld) logger.info('webhook valid and answering', { webhookId: health.webhook.id });
    }
  }

  const run = async (_event: ScheduledEvent): Promise<{ status: WebhookHealth['status'] | 'error' }> => {
    try {
      const keys = await secrets.get();
      const health = await checkWebhookHealth({
        x: deps.xApi(keys),
        store,
        webhookUrl,
        probe: (url) => probe(url, keys.consumerSecret),
        now: deps.clock ?? Date.now,
      });
      report(health);
      return { status: health.status };
    } catch (err) {
      logger.error('webhook health check failed; the next scheduled run tries again', { error: describeXError(err) });
      count(Metric.WebhookCheckFailed);
      return { status: 'error' };
    }
  };

  return middy(run).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

export const handler = wireOnFirstCall('webhook-health', (config) =>
  createWebhookHealthHandler({
    ...createObservability(config.tenant),
    secrets: secretSourceFor(secretOf(config)),
    xApi: (keys) => twitterWebhookApi(keys, config.xApiBaseUrl ?? 'https://api.x.com'),
    store: dynamoWebhookHealthStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), config.tableName),
    webhookUrl: config.webhookUrl,
  }),
);
