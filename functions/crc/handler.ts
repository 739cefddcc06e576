import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { answerCrc } from '../core/crc';
import { json } from '../core/http-event';
import { SecretNotFilledError } from '../core/errors';
import { Metric } from '../core/metric-names';
import { consumerSecretSourceFor, type ConsumerSecretSource } from '../adapters/secrets';
import { createObservability, type Observability } from '../observability';
import { consumerSecretOf } from '../config';
import { wireOnFirstCall } from '../wiring';

export interface CrcDeps extends Observability<'crc'> {
  /** The consumer secret alone: crc may not read the tenant secret. */
  secrets: ConsumerSecretSource;
}

/**
 * GET /webhooks/twitter?crc_token=T: X's Challenge-Response Check. A failed secret read is retried
 * once with a fresh read (the cached value may be stale after a rotation); a missing token is a 400.
 */
export function createCrcHandler(deps: CrcDeps) {
  const { logger, metrics, secrets } = deps;
  const consumerSecret = async (): Promise<string> => {
    try {
      return (await secrets.get()).consumerSecret;
    } catch {
      secrets.invalidate();
      return (await secrets.get()).consumerSecret;
    }
  };

  const crc = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const token = event.queryStringParameters?.crc_token;
    if (!token) {
      logger.warn('CRC request without crc_token');
      metrics.addMetric(Metric.CrcFailed, MetricUnit.Count, 1);
      return json(400, { error: 'missing crc_token query parameter' });
    }
    let secret: string;
    try {
      secret = await consumerSecret();
    } catch (err) {
      logger.error('cannot read the tenant secret to answer CRC', { error: (err as Error).message });
      metrics.addMetric(Metric.CrcFailed, MetricUnit.Count, 1);
      if (err instanceof SecretNotFilledError) metrics.addMetric(Metric.SecretNotFilled, MetricUnit.Count, 1);
      return json(500, { error: 'secret unavailable' });
    }
    const result = answerCrc(secret, token);
    if (!result.ok) {
      // Never the token itself: it may be an attacker's payload.
      logger.warn('CRC request refused', { reason: result.reason, tokenLength: token.length });
      metrics.addMetric(Metric.CrcRejected, MetricUnit.Count, 1);
      return json(400, { error: result.reason });
    }
    metrics.addMetric(Metric.CrcAnswered, MetricUnit.Count, 1);
    return json(200, result.body);
  };

  return middy(crc).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

export const handler = wireOnFirstCall('crc', (config) =>
  createCrcHandler({ ...createObservability(config.tenant), secrets: consumerSecretSourceFor(consumerSecretOf(config)) }),
);
