import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { Env } from '../../functions/config';
import { Metric } from '../../functions/core/metric-names';
import { tenantConfigSchema } from '../../infra/tenant-config';
import { actionsOn, buildStack, exampleRelay, functionNamed, resourceNamed, statementsOf, tenantWith } from './build-stack';

/** Polling mode (x.ingestion = "poll"): a scheduled dm-poller instead of the webhook API. */
const pollTenant = tenantWith({ name: 'poller', x: { ingestion: 'poll', pollIntervalSeconds: 120, pollBackfillMinutes: 30 } });
let built: ReturnType<typeof buildStack>;
let template: Template;

beforeAll(() => {
  built = buildStack(pollTenant);
  template = built.template;
});

const alarmNames = (t: Template) =>
  Object.values(t.findResources('AWS::CloudWatch::Alarm'))
    .map((a) => String(a.Properties.AlarmName).replace('FourBizTwitterDm-poller-', ''))
    .sort();

describe('tenant file x section', () => {
  it('defaults to webhook ingestion, a 60 s interval and no backfill', () => {
    expect(exampleRelay().x).toEqual({ ingestion: 'webhook', pollIntervalSeconds: 60, pollBackfillMinutes: 0, xchat: false });
  });

  it('refuses an interval under X\'s limit or not in whole minutes, and unknown keys, with a clear message', () => {
    const issues = (x: unknown) => {
      const r = tenantConfigSchema.safeParse({ ...tenantWith(), x });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ ingestion: 'poll', pollIntervalSeconds: 30 })).toContain('x.pollIntervalSeconds: at least 60: X allows 15 DM lookups per 15 minutes per user');
    expect(issues({ ingestion: 'poll', pollIntervalSeconds: 90 })[0]).toMatch(/whole number of minutes/);
    expect(issues({ ingestion: 'pull' })[0]).toMatch(/^x.ingestion/);
    expect(issues({ pollBackfillMinutes: -1 })[0]).toMatch(/^x.pollBackfillMinutes/);
    expect(issues({ interval: 60 })[0]).toMatch(/Unrecognized key/);
  });
});

describe('poll-mode stack', () => {
  it('has no public endpoint: no HTTP API, no crc or webhook function, no WebhookUrl output', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 0);
    expect(() => functionNamed(template, 'Crc')).toThrow(/found none/);
    expect(() => functionNamed(template, 'Webhook')).toThrow(/found none/);
    // Nor the webhook-health check, which asks X about a webhook this tenant does not have.
    expect(() => functionNamed(template, 'Health')).toThrow(/found none/);
    expect(Object.keys(template.findOutputs('*')).filter((k) => k.includes('WebhookUrl'))).toEqual([]);
  });

  it('runs the dm-poller on the tenant\'s schedule, without retries, with what it needs in its environment', () => {
    const [id, fn] = functionNamed(template, 'DmPoller');
    expect(fn.Properties!.Environment.Variables).toMatchObject({
      [Env.xAccountId]: pollTenant.xAccountId,
      [Env.pollBackfillMinutes]: '30',
      [Env.tableName]: { Ref: expect.stringMatching(/^Conversations/) },
      [Env.inboundQueueUrl]: { Ref: expect.stringMatching(/^Inbound/) },
    });
    expect(fn.Properties!.Timeout).toBe(110);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(2 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: id }, MaximumRetryAttempts: 0 });
    // The dispatcher still delivers what the poller queues, expecting DMs as old as the backfill.
    expect(functionNamed(template, 'Dispatcher')[1].Properties!.Environment.Variables).toMatchObject({ [Env.pollBackfillMinutes]: '30' });
  });

  it('the dm-poller may read and write single table items (cursor, lease) and send to the inbound queue, nothing more', () => {
    const statements = statementsOf(template, 'DmPoller');
    const [tableId] = resourceNamed(template, 'AWS::DynamoDB::Table', 'Conversations');
    const [queueId] = resourceNamed(template, 'AWS::SQS::Queue', 'InboundQueue');
    expect(actionsOn(statements, tableId)).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(actionsOn(statements, queueId)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    expect(actionsOn(statements, queueId).filter((a) => !a.startsWith('sqs:Send') && !a.startsWith('sqs:Get'))).toEqual([]);
  });

  it('alarms when polls fail, an event is skipped as invalid, X refuses the keys, throttles, caps or runs out of credits, DMs arrive late, or the poller stops; no CRC alarm', () => {
    expect(alarmNames(template)).toEqual(
      [
        'DispatcherErrors',
        'DispatcherThrottles',
        'DmEventInvalid',
        'DmPollFailed',
        'DmPollLag',
        'DmPollRateLimited',
        'DmPollerErrors',
        'DmPollerStopped',
        'DmPollerThrottles',
        'EnqueueFailed',
        'FourbizAuthFailure',
        'FourbizOutage',
        'FourbizErrorRate',
        'InboundDlqNotEmpty',
        'InboundOldestMessageAge',
        'XAuthFailure',
        'XCreditsDepleted',
        'XTokenRefreshFailed',
      ].sort(),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'FourBizTwitterDm-poller-DmPollerStopped',
      MetricName: Metric.DmPollRuns,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
      Period: 360,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'FourBizTwitterDm-poller-DmPollLag', MetricName: Metric.DmPollLag, Threshold: 360, Statistic: 'Maximum' });
  });

  it('the dashboard shows DMs polled, failed polls, 429s, 401/403 and the lag, and no webhook API', () => {
    const [, dashboard] = resourceNamed(template, 'AWS::CloudWatch::Dashboard', 'Dashboard');
    const body = JSON.stringify(dashboard.Properties!.DashboardBody);
    for (const name of [Metric.DmPolled, Metric.DmPollRuns, Metric.DmPollFailed, Metric.DmPollRateLimited, Metric.XAuthFailure, Metric.DmPollLag, Metric.DmEventInvalid]) {
      expect(body).toContain(`\\"${name}\\"`);
    }
    expect(body).not.toContain('AWS/ApiGateway');
  });

  it('is cdk-nag clean', () => {
    const annotations = Annotations.fromStack(built.stack);
    expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  it('tickets mode polls the same way: dm-poller beside the 4biz poller and the sender, one XAuthFailure alarm, cdk-nag clean', () => {
    const tickets = buildStack(
      tenantWith({
        name: 'poll-tickets',
        x: { ingestion: 'poll' },
        fourbiz: { mode: 'tickets', baseUrl: 'https://empresa.4biz.one/4biz', contractId: 1 },
      }),
    );
    for (const id of ['DmPoller', 'Poller', 'Sender', 'Dispatcher']) expect(functionNamed(tickets.template, id)).toBeDefined();
    expect(Object.values(tickets.template.findResources('AWS::CloudWatch::Alarm')).filter((a) => String(a.Properties.AlarmName).endsWith('-XAuthFailure'))).toHaveLength(1);
    expect(Annotations.fromStack(tickets.stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  it('a webhook-mode stack has no dm-poller', () => {
    expect(() => functionNamed(buildStack(exampleRelay()).template, 'DmPoller')).toThrow(/found none/);
  });
});
