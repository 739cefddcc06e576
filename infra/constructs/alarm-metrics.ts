import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_NAMESPACE, Metric as MetricName, metricDimensions, type MetricName as Name } from '../../functions/core/metric-names';
import type { TenantConfig } from '../tenant-config';

/** The metrics and metric math the alarms and the dashboard read. */
export const fiveMinutes = Duration.minutes(5);

/** A custom metric of this tenant, as the functions emit it (Powertools EMF, dimensions service + tenant). */
export function tenantMetric(tenant: string, name: Name, statistic = 'Sum'): Metric {
  return new Metric({
    namespace: METRIC_NAMESPACE,
    metricName: name,
    dimensionsMap: metricDimensions(tenant),
    statistic,
    period: fiveMinutes,
  });
}

/** Percentage of 4biz calls that failed (transient or permanent) among all 4biz calls. */
export function fourbizErrorRate(tenant: string): MathExpression {
  const errors = 'FILL(transient, 0) + FILL(permanent, 0)';
  const total = `${errors} + FILL(delivered, 0)`;
  return new MathExpression({
    label: '4biz error rate (%)',
    expression: `IF(${total} > 0, 100 * (${errors}) / (${total}), 0)`,
    usingMetrics: {
      transient: tenantMetric(tenant, MetricName.FourbizTransientError),
      permanent: tenantMetric(tenant, MetricName.FourbizPermanentError),
      delivered: tenantMetric(tenant, MetricName.DeliveredTo4biz),
    },
    period: fiveMinutes,
  });
}

/**
 * Webhook-health runs that found X not delivering (invalid after re-validation, or missing) or our
 * endpoint failing CRC; over 30 minutes so that two 15-minute runs overlap and the alarm does not
 * flap between runs.
 */
export function webhookDown(tenant: string): MathExpression {
  const period = Duration.minutes(30);
  return new MathExpression({
    label: 'webhook invalid or unreachable',
    expression: 'FILL(invalid, 0) + FILL(unreachable, 0)',
    usingMetrics: {
      invalid: tenantMetric(tenant, MetricName.WebhookInvalid).with({ period }),
      unreachable: tenantMetric(tenant, MetricName.WebhookUnreachable).with({ period }),
    },
    period,
  });
}

/**
 * X's pay-per-use prices (docs.x.com "Pricing", November 2026) for what the bridge's functions count.
 * The bridge counts calls, not X's bill: a DM event read again the same UTC day is counted again (X
 * bills it once), and a webhook DM counts as an X Activity API delivery (Account Activity ones carry
 * no per-event price), so the estimate errs high.
 */
const X_PRICE_USD = { dmEventRead: 0.01, dmSent: 0.015, dmReceived: 0.01 } as const;

/** What the tenant's day of billable X calls would cost (US$), from the metrics its deployed functions emit. */
export function xSpendPerDay(tenant: TenantConfig): MathExpression {
  const day = Duration.days(1);
  const parts: Record<string, { metric: Name; price: number }> =
    tenant.x.ingestion === 'poll' ? { reads: { metric: MetricName.XDmEventsRead, price: X_PRICE_USD.dmEventRead } } : { received: { metric: MetricName.DmReceived, price: X_PRICE_USD.dmReceived } };
  if (tenant.fourbiz.mode === 'tickets') parts.sent = { metric: MetricName.DmSent, price: X_PRICE_USD.dmSent };
  return new MathExpression({
    label: 'X spend today, estimated (US$)',
    expression: Object.entries(parts).map(([id, p]) => `${p.price} * FILL(${id}, 0)`).join(' + '),
    usingMetrics: Object.fromEntries(Object.entries(parts).map(([id, p]) => [id, tenantMetric(tenant.name, p.metric).with({ period: day })])),
    period: day,
  });
}
