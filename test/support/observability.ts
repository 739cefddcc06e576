import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE, SERVICE_NAME } from '../../functions/core/metric-names';
import type { Observability } from '../../functions/observability';

/**
 * Logger and Metrics for tests: metrics are kept in memory (read them with `published()`; one with
 * its own dimensions as `Name{key=value}`), and the
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
  // A metric with its own dimensions (singleMetric) counts under `Name{key=value}`.
  const single = metrics.singleMetric.bind(metrics);
  metrics.singleMetric = () => {
    const one = single();
    const dimensions: string[] = [];
    const addDimension = one.addDimension.bind(one);
    one.addDimension = (key, value) => (dimensions.push(`${key}=${value}`), addDimension(key, value));
    const addOne = one.addMetric.bind(one);
    one.addMetric = (name, unit, value, resolution) => {
      const key = `${name}{${dimensions.join(',')}}`;
      totals[key] = (totals[key] ?? 0) + value;
      return addOne(name, unit, value, resolution);
    };
    return one;
  };
  return { logger: new Logger({ serviceName: SERVICE_NAME, persistentKeys: { tenant } }), metrics, published: () => ({ ...totals }) };
}
