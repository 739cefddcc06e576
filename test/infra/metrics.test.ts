import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { emittedBy, extraDimensions, METRIC_NAMESPACE, SERVICE_NAME, type MetricName } from '../../functions/core/metric-names';
import { BridgeFunction } from '../../infra/constructs/bridge-function';
import { loadTenantConfig, type TenantConfig } from '../../infra/tenant-config';
import { buildStack, exampleRelay, exampleTickets, tenantWith } from './build-stack';

/** A metric a dashboard line or an alarm reads: where, namespace, name and dimensions (values as in the template). */
interface MetricRef {
  where: string;
  namespace: string;
  name: string;
  dimensions: Record<string, unknown>;
}

const dimensionsOf = (list: { Name: string; Value: unknown }[] = []) => Object.fromEntries(list.map((d) => [d.Name, d.Value]));

function alarmMetrics(template: Template): MetricRef[] {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm')).flatMap(({ Properties: p }) => {
    const where = `alarm ${JSON.stringify(p.AlarmName)}`;
    if (p.MetricName) return [{ where, namespace: p.Namespace, name: p.MetricName, dimensions: dimensionsOf(p.Dimensions) }];
    return (p.Metrics as { MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: [] } } }[])
      .filter((m) => m.MetricStat)
      .map(({ MetricStat }) => ({ where, namespace: MetricStat!.Metric.Namespace, name: MetricStat!.Metric.MetricName, dimensions: dimensionsOf(MetricStat!.Metric.Dimensions) }));
  });
}

/**
 * The metric lines of every dashboard: the body is a Fn::Join of JSON text and CloudFormation
 * tokens; each token becomes a placeholder string, the JSON is parsed and the tokens put back.
 */
function dashboardMetrics(template: Template): MetricRef[] {
  return Object.values(template.findResources('AWS::CloudWatch::Dashboard')).flatMap(({ Properties: p }) => {
    const parts = p.DashboardBody['Fn::Join'][1] as unknown[];
    const tokens: unknown[] = [];
    const text = parts.map((part) => (typeof part === 'string' ? part : `@@${tokens.push(part) - 1}@@`)).join('');
    const untoken = (v: unknown) => (typeof v === 'string' && /^@@\d+@@$/.test(v) ? tokens[Number(v.slice(2, -2))] : v);
    const widgets = JSON.parse(text).widgets as { properties: { title?: string; metrics?: unknown[][] } }[];
    return widgets.flatMap(({ properties }) => {
      let previous: unknown[] = [];
      return (properties.metrics ?? [])
        .filter((line) => typeof line[0] === 'string')
        .map((raw) => {
          // CloudWatch's '.' repeats the line above's value at that position.
          const line = raw.map((v, i) => (v === '.' ? previous[i] : v));
          previous = line;
          const fields = line.filter((v) => typeof v !== 'object' || v === null || !('stat' in v || 'label' in v || 'id' in v || 'visible' in v));
          const [namespace, name, ...dims] = fields as [string, string, ...unknown[]];
          const dimensions = Object.fromEntries(Array.from({ length: dims.length / 2 }, (_, i) => [dims[2 * i] as string, untoken(dims[2 * i + 1])]));
          return { where: `dashboard graph ${JSON.stringify(properties.title)}`, namespace, name, dimensions };
        });
    });
  });
}

/** What is wrong with each metric the tenant's dashboard and alarms read, given what its stack deploys. */
function problems(tenant: TenantConfig): string[] {
  const { stack, template } = buildStack(tenant);
  const logicalId = (s: Stack, c: { node: { defaultChild?: unknown } }) => s.getLogicalId(c.node.defaultChild as CfnElement);
  const functions = stack.node.findAll().filter((c): c is BridgeFunction => c instanceof BridgeFunction);
  const functionIds = new Set(functions.map((f) => logicalId(stack, f.fn)));
  const emitted = new Set<MetricName>(functions.flatMap((f) => emittedBy[f.name]));
  const ids = (type: string) => new Set(Object.keys(template.findResources(type)));
  const queues = ids('AWS::SQS::Queue');
  const apis = ids('AWS::ApiGatewayV2::Api');
  const is = (value: unknown, shape: object) => JSON.stringify(value) === JSON.stringify(shape);

  const check = ({ namespace, name, dimensions }: MetricRef): string | undefined => {
    const keys = Object.keys(dimensions).sort();
    switch (namespace) {
      case METRIC_NAMESPACE: {
        if (!emitted.has(name as MetricName)) return 'no function of this tenant emits it';
        const expected = ['service', 'tenant', ...(extraDimensions[name as MetricName] ?? [])].sort();
        if (!is(keys, expected)) return `dimensions ${keys} instead of ${expected}`;
        return dimensions.service === SERVICE_NAME && dimensions.tenant === tenant.name ? undefined : `dimensions ${JSON.stringify(dimensions)}`;
      }
      case 'AWS/Lambda': {
        const fn = dimensions.FunctionName as { Ref?: string } | undefined;
        return is(keys, ['FunctionName']) && functionIds.has(fn?.Ref ?? '') ? undefined : `not a function of this stack: ${JSON.stringify(dimensions)}`;
      }
      case 'AWS/SQS': {
        const q = dimensions.QueueName as { 'Fn::GetAtt'?: [string, string] } | undefined;
        return is(keys, ['QueueName']) && queues.has(q?.['Fn::GetAtt']?.[0] ?? '') ? undefined : `not a queue of this stack: ${JSON.stringify(dimensions)}`;
      }
      case 'AWS/ApiGateway': {
        const api = dimensions.ApiId as { Ref?: string } | undefined;
        return is(keys, ['ApiId']) && apis.has(api?.Ref ?? '') ? undefined : `not the API of this stack: ${JSON.stringify(dimensions)}`;
      }
      default:
        return 'a namespace nothing of this stack publishes to';
    }
  };
  const refs = [...alarmMetrics(template), ...dashboardMetrics(template)];
  if (refs.length === 0) return ['no metric found: the template parsing is broken'];
  return refs.flatMap((ref) => {
    const problem = check(ref);
    return problem ? [`${ref.where}: ${ref.namespace} ${ref.name}: ${problem}`] : [];
  });
}

describe('every dashboard line and every alarm reads a metric that a function of the tenant emits (namespace, name, dimensions)', () => {
  it.each([
    ['relay (webhook)', exampleRelay],
    ['tickets (webhook)', exampleTickets],
    ['polling, relay', () => loadTenantConfig('example-poll')],
    [
      'polling, tickets',
      () => tenantWith({ name: 'poll-tickets', x: { ingestion: 'poll' }, fourbiz: { mode: 'tickets', baseUrl: 'https://empresa.4biz.one/4biz', contractId: 1 } }),
    ],
  ])('%s', (_mode, tenant) => {
    expect(problems(tenant())).toEqual([]);
  });

  it('the polling dashboard draws the DM lookup and none of the webhook lines (it once drew ten metrics no function of it emits)', () => {
    const { template } = buildStack(loadTenantConfig('example-poll'));
    expect(dashboardMetrics(template).map((m) => m.name)).toContain('DmPolled');
    for (const webhookOnly of ['DmReceived', 'CrcFailed', 'WebhookRejected', 'SecretNotFilled', 'ForeignAccountDropped', 'XAccessRevoked']) expect(dashboardMetrics(template).map((m) => m.name)).not.toContain(webhookOnly);
  });

  it('the tickets dashboard shows how long answers wait for X\'s limits (ReplyWaitSeconds, median and maximum)', () => {
    const { template } = buildStack(exampleTickets());
    expect(dashboardMetrics(template).filter((m) => m.name === 'ReplyWaitSeconds')).toHaveLength(2);
  });
});
