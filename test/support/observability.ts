import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE, SERVICE_NAME } from '../../functions/core/metric-names';
import type { Observability } from '../../functions/observability';

/**
 * Logger and Metrics for tests: metrics are kept in memory (read them with `published()`), and the
 * "no metrics to publish" warning stays out of the test output.
 */
export function testObservability(tenant = 'test'): Observability & { published(): Record<string, number> } {
  const silent = { debug() {}, info() {}, warn() {}, error() {}, trace() {} };
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: SERVICE_NAME, defaultDimensions: { tenant }, logger: silent });
  const totals: Record<string, number> = {};
  const add = metrics.addMetric.bind(metrics);
  metrics.addMetric = (name, unit, value, resolution) => {
    totals[name] = (totals[name] ?? 0) + value;
    return add(name, unit, value, resolution);
  };
  return { logger: new Logger({ serviceName: SERVICE_NAME, persistentKeys: { tenant } }), metrics, published: () => ({ ...totals }) };
}
