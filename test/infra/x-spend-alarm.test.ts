import { Metric } from '../../functions/core/metric-names';
import { buildStack, tenantWith } from './build-stack';

/** Issue 18 §5: an optional monthly X budget, watched from the bridge's own count of billable X calls. */
type Json = Record<string, unknown>;
const alarmOf = (template: ReturnType<typeof buildStack>['template'], id: string) =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((r) => (r.Properties as Json).AlarmName === `FourBizTwitterDm-edge-${id}`)?.Properties as
    | { Threshold: number; Metrics: Array<{ Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string }; Period: number } }> }
    | undefined;

describe('XSpend alarm', () => {
  it('is not there without a budget', () => {
    expect(alarmOf(buildStack(tenantWith()).template, 'XSpend')).toBeUndefined();
  });

  it('prices a polling tickets tenant\'s day of DM events read and DMs sent against a 30th of the budget', () => {
    const tickets = tenantWith({
      x: { ingestion: 'poll', monthlyBudgetUsd: 300 },
      fourbiz: { mode: 'tickets', baseUrl: 'https://empresa.4biz.one/4biz', contractId: 1 },
    });
    const alarm = alarmOf(buildStack(tickets).template, 'XSpend')!;
    expect(alarm.Threshold).toBe(10);
    const expression = alarm.Metrics.find((m) => m.Expression)!.Expression;
    expect(expression).toBe('0.01 * FILL(reads, 0) + 0.015 * FILL(sent, 0)');
    const read = Object.fromEntries(alarm.Metrics.filter((m) => m.MetricStat).map((m) => [m.Id, [m.MetricStat!.Metric.MetricName, m.MetricStat!.Period]]));
    expect(read).toEqual({ reads: [Metric.XDmEventsRead, 86400], sent: [Metric.DmSent, 86400] });
  });

  it('prices a webhook relay tenant\'s DMs received', () => {
    const alarm = alarmOf(buildStack(tenantWith({ x: { monthlyBudgetUsd: 45 } })).template, 'XSpend')!;
    expect(alarm.Threshold).toBe(1.5);
    expect(alarm.Metrics.find((m) => m.Expression)!.Expression).toBe('0.01 * FILL(received, 0)');
  });
});
