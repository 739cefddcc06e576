import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE, SERVICE_NAME, type EmittedBy, type EmittingFunction } from './core/metric-names';

/**
 * Logger and Metrics for one function of a tenant: JSON logs keyed by tenant, EMF metrics in the
 * project's namespace with the dimensions the dashboard reads (service, tenant).
 */
export interface Observability<F extends EmittingFunction = EmittingFunction> {
  logger: Logger;
  metrics: FunctionMetrics<F>;
}

/** Powertools Metrics whose addMetric takes only the names function F declares (core/metric-names.ts `emittedBy`). */
interface FunctionMetrics<F extends EmittingFunction> extends Metrics {
  addMetric(name: EmittedBy<F>, ...unitValueResolution: AddMetricRest): this;
}
type AddMetricRest = Parameters<Metrics['addMetric']> extends [string, ...infer Rest] ? Rest : never;

export function createObservability(tenant: string): Observability {
  return {
    logger: new Logger({ serviceName: SERVICE_NAME, persistentKeys: { tenant } }),
    metrics: new Metrics({ namespace: METRIC_NAMESPACE, serviceName: SERVICE_NAME, defaultDimensions: { tenant } }),
  };
}
