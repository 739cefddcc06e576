import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE, SERVICE_NAME } from './core/metric-names';

/**
 * Logger and Metrics for one function of a tenant: JSON logs keyed by tenant, EMF metrics in the
 * project's namespace with the dimensions the dashboard reads (service, tenant).
 */
export interface Observability {
  logger: Logger;
  metrics: Metrics;
}

export function createObservability(tenant: string): Observability {
  return {
    logger: new Logger({ serviceName: SERVICE_NAME, persistentKeys: { tenant } }),
    metrics: new Metrics({ namespace: METRIC_NAMESPACE, serviceName: SERVICE_NAME, defaultDimensions: { tenant } }),
  };
}
