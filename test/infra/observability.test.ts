import { Match, Template } from 'aws-cdk-lib/assertions';
import { Metric, METRIC_NAMESPACE, SERVICE_NAME } from '../../functions/core/metric-names';
import { resourceNames } from '../../infra/resource-names';
import { buildStack, exampleRelay, exampleTickets, functionNamed, resourceNamed, tenantWith } from './build-stack';

const relay = exampleRelay();
const tickets = exampleTickets();
let relayTemplate: Template;
let ticketsTemplate: Template;

beforeAll(() => {
  relayTemplate = buildStack(relay).template;
  ticketsTemplate = buildStack(tickets).template;
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation template JSON: the tests read arbitrary nested properties.
type Alarm = { Properties: Record<string, any> };
const alarmsOf = (template: Template, stackName: string): Record<string, Alarm> =>
  Object.fromEntries(
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => [a.Properties.AlarmName.replace(`${stackName}-`, ''), a]),
  );
const customMetric = (name: string, tenant: string) => ({
  Namespace: METRIC_NAMESPACE,
  MetricName: name,
  Dimensions: [
    { Name: 'service', Value: SERVICE_NAME },
    { Name: 'tenant', Value: tenant },
  ],
});

describe('alarm topic', () => {
  it('is named after the tenant, KMS-encrypted with a rotating key CloudWatch may use, TLS only', () => {
    const [keyId, key] = resourceNamed(relayTemplate, 'AWS::KMS::Key', 'AlarmsTopicKey');
    expect(key.Properties!.EnableKeyRotation).toBe(true);
    expect(JSON.stringify(key.Properties!.KeyPolicy)).toContain('cloudwatch.amazonaws.com');
    relayTemplate.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: resourceNames('example').alarmTopic,
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    relayTemplate.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('e-mails every address of the tenant file, and none when the list is empty', () => {
    relayTemplate.resourceCountIs('AWS::SNS::Subscription', 1);
    relayTemplate.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const two = buildStack(tenantWith({ alarms: { emails: ['a@example.com', 'b@example.com'] } })).template;
    two.resourceCountIs('AWS::SNS::Subscription', 2);
    buildStack(tenantWith()).template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('alarms', () => {
  const relayAlarms = [
    'CrcFailed',
    'FourbizAuthFailure',
    'FourbizOutage',
    'FourbizErrorRate',
    'InboundDlqNotEmpty',
    'InboundOldestMessageAge',
    'SecretNotFilled',
    'SecretUnavailable',
    'EnqueueFailed',
    'WebhookApiServerErrors',
    'WebhookInvalid',
    'WebhookCheckFailed',
    'WebhookHealthNotRunning',
    'WebhookRejected',
    'OldDmDropped',
    'InboundParked',
    'XAccessRevoked',
    ...['Crc', 'Webhook', 'Dispatcher', 'WebhookHealth'].flatMap((f) => [`${f}Errors`, `${f}Throttles`]),
  ];

  it('relay mode: DLQ, oldest message age, 4biz error rate and auth failures, CRC, secret, webhook invalid, unchecked or not running, signed deliveries refused, old DMs dropped, X access revoked, enqueue, API 5xx, errors and throttles of every function', () => {
    expect(Object.keys(alarmsOf(relayTemplate, 'FourBizTwitterDm-example')).sort()).toEqual(relayAlarms.sort());
  });

  it('tickets mode adds the outbound DLQ, X auth failures, X out of credits or at a cap, the poller and sender functions, and a poller that stopped', () => {
    expect(Object.keys(alarmsOf(ticketsTemplate, 'FourBizTwitterDm-example-tickets')).sort()).toEqual(
      [
        ...relayAlarms,
        'OutboundDlqNotEmpty',
        'XAuthFailure',
        'XCreditsDepleted',
        'XCapReached',
        'XTokenRefreshFailed',
        'PollerErrors',
        'PollerThrottles',
        'SenderErrors',
        'SenderThrottles',
        'PollerNotRunning',
      ].sort(),
    );
  });

  it('every alarm notifies the topic when it fires and when it clears, and explains itself', () => {
    for (const template of [relayTemplate, ticketsTemplate]) {
      const [topicId] = resourceNamed(template, 'AWS::SNS::Topic', 'AlarmsTopic');
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
        expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
        expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
        expect(alarm.Properties.AlarmDescription.length).toBeGreaterThan(40);
      }
    }
  });

  it('DLQ alarms fire on the first message in a DLQ', () => {
    const alarms = alarmsOf(ticketsTemplate, 'FourBizTwitterDm-example-tickets');
    for (const [name, queue] of [
      ['InboundDlqNotEmpty', 'InboundDlq'],
      ['OutboundDlqNotEmpty', 'OutboundDlq'],
    ]) {
      const [queueId] = resourceNamed(ticketsTemplate, 'AWS::SQS::Queue', queue);
      expect(alarms[name].Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        // SQS stops publishing an idle queue's metrics after six hours, messages or not: missing
        // data keeps the state, so a DLQ that holds messages stays in ALARM (it was notBreaching:
        // back to OK, with an OK e-mail, while the DMs still sat there).
        TreatMissingData: 'ignore',
      });
    }
  });

  it('oldest-message and 4biz error-rate thresholds come from the tenant file', () => {
    const { template } = buildStack(tenantWith({ alarms: { oldestMessageAgeSeconds: 120, fourbizErrorRatePercent: 25 } }));
    const alarms = alarmsOf(template, 'FourBizTwitterDm-edge');
    const [queueId] = resourceNamed(template, 'AWS::SQS::Queue', 'InboundQueue');
    expect(alarms.InboundOldestMessageAge.Properties).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 120,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const rate = alarms.FourbizErrorRate.Properties;
    expect(rate).toMatchObject({ Threshold: 25, ComparisonOperator: 'GreaterThanThreshold' });
    const queries: { Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: { Metric: { MetricName: string } } }[] = rate.Metrics;
    const expression = queries.find((q) => q.Expression)!;
    expect(expression.ReturnData).not.toBe(false);
    expect(expression.Expression).toMatch(/100 \* \(FILL\(transient, 0\) \+ FILL\(permanent, 0\)\)/);
    const byId = Object.fromEntries(queries.filter((q) => q.MetricStat).map((q) => [q.Id, q.MetricStat!.Metric]));
    expect(byId).toMatchObject({
      transient: customMetric(Metric.FourbizTransientError, 'edge'),
      permanent: customMetric(Metric.FourbizPermanentError, 'edge'),
      delivered: customMetric(Metric.DeliveredTo4biz, 'edge'),
    });
  });

  it('CRC failures, X auth failures, X out of credits and X caps alarm on the first occurrence of the custom metric', () => {
    const alarms = alarmsOf(ticketsTemplate, 'FourBizTwitterDm-example-tickets');
    for (const [name, metric] of [
      ['CrcFailed', Metric.CrcFailed],
      ['XAuthFailure', Metric.XAuthFailure],
      ['XCreditsDepleted', Metric.XCreditsDepleted],
      ['XCapReached', Metric.XCapReached],
      ['XTokenRefreshFailed', Metric.XTokenRefreshFailed],
    ]) {
      expect(alarms[name].Properties).toMatchObject({
        ...customMetric(metric, 'example-tickets'),
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('dispatcher errors watch the dispatcher function', () => {
    const [fnId] = functionNamed(relayTemplate, 'Dispatcher');
    expect(alarmsOf(relayTemplate, 'FourBizTwitterDm-example').DispatcherErrors.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      Threshold: 1,
    });
  });
});

describe('webhook and X account alarms', () => {
  it('WebhookInvalid fires on the first health run that found X not delivering or the endpoint failing CRC, over 30 minutes', () => {
    const alarm = alarmsOf(relayTemplate, 'FourBizTwitterDm-example').WebhookInvalid!.Properties;
    expect(alarm).toMatchObject({ Threshold: 1, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    const metrics = alarm.Metrics as Array<{ Id: string; Expression?: string; MetricStat?: { Metric: unknown; Period: number } }>;
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('FILL(invalid, 0) + FILL(unreachable, 0)');
    expect(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat!.Metric, m.MetricStat!.Period])).toEqual([
      ['invalid', customMetric(Metric.WebhookInvalid, 'example'), 1800],
      ['unreachable', customMetric(Metric.WebhookUnreachable, 'example'), 1800],
    ]);
  });

  it('pages when the webhook-health function cannot check the webhook twice within an hour', () => {
    expect(alarmsOf(relayTemplate, 'FourBizTwitterDm-example').WebhookCheckFailed!.Properties).toMatchObject({
      MetricName: Metric.WebhookCheckFailed,
      Period: 3600,
      Statistic: 'Sum',
      Threshold: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('pages when the webhook-health function has not run for an hour (no invocations is missing data: breaching)', () => {
    const [fnId] = resourceNamed(relayTemplate, 'AWS::Lambda::Function', 'HealthWebhookHealth');
    expect(alarmsOf(relayTemplate, 'FourBizTwitterDm-example').WebhookHealthNotRunning!.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      Period: 3600,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('WebhookRejected, OldDmDropped and InboundParked fire on the first signed delivery refused, old DM dropped or DM parked', () => {
    const alarms = alarmsOf(relayTemplate, 'FourBizTwitterDm-example');
    expect(alarms[Metric.InboundParked]!.Properties.AlarmDescription).toContain('npm run dlq -- parked --tenant NAME --requeue');
    for (const name of [Metric.WebhookRejected, Metric.OldDmDropped, Metric.InboundParked]) {
      expect(alarms[name]!.Properties).toMatchObject({ ...customMetric(name, 'example'), Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    }
  });

  it('XAccessRevoked fires on the first oauth.revoke of the tenant account', () => {
    expect(alarmsOf(relayTemplate, 'FourBizTwitterDm-example').XAccessRevoked!.Properties).toMatchObject({
      ...customMetric(Metric.XAccessRevoked, 'example'),
      Statistic: 'Sum',
      Threshold: 1,
      EvaluationPeriods: 1,
    });
  });
});

describe('dashboard', () => {
  const bodyOf = (template: Template) => {
    const [, dashboard] = resourceNamed(template, 'AWS::CloudWatch::Dashboard', 'Dashboard');
    return { name: dashboard.Properties!.DashboardName, body: JSON.stringify(dashboard.Properties!.DashboardBody) };
  };

  it('is named after the tenant and shows the alarms', () => {
    const { name, body } = bodyOf(relayTemplate);
    expect(name).toBe(resourceNames('example').dashboard('sa-east-1'));
    expect(body).toContain('\\"type\\":\\"alarm\\"');
    const alarmIds = Object.keys(relayTemplate.findResources('AWS::CloudWatch::Alarm'));
    for (const id of alarmIds) expect(body).toContain(`"${id}"`);
  });

  it('shows the webhook API, the queues and the functions', () => {
    const { body } = bodyOf(ticketsTemplate);
    for (const text of [
      'AWS/ApiGateway',
      '\\"Count\\"',
      '\\"4xx\\"',
      '\\"5xx\\"',
      '\\"Latency\\"',
      '\\"stat\\":\\"p50\\"',
      '\\"stat\\":\\"p99\\"',
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      'inbound DLQ',
      'outbound DLQ',
      'AWS/Lambda',
      '\\"Invocations\\"',
      '\\"Errors\\"',
      '\\"Duration\\"',
      '\\"Throttles\\"',
    ]) {
      expect(body).toContain(text);
    }
    for (const fn of ['Dispatcher', 'Sender', 'Poller']) expect(body).toContain(`"${functionNamed(ticketsTemplate, fn)[0]}"`);
  });

  it('shows the bridge metrics, with the dimensions the functions emit', () => {
    const { body } = bodyOf(ticketsTemplate);
    for (const name of [
      Metric.DmReceived,
      Metric.EchoDropped,
      Metric.DeliveredTo4biz,
      Metric.FourbizLatency,
      Metric.FourbizTransientError,
      Metric.FourbizPermanentError,
      Metric.DmSent,
      Metric.XRateLimited,
      Metric.RepliesQueued,
      Metric.ConversationsPolled,
      // What was refused or dropped at the door.
      Metric.ForeignAccountDropped,
      Metric.CrcRejected,
      Metric.OldDmReceived,
      Metric.FourbizAuthFailure,
      Metric.RecipientRefusedDm,
      Metric.WebhookInvalid,
      Metric.WebhookUnreachable,
      Metric.WebhookRevalidated,
      Metric.WebhookReplayStarted,
      Metric.WebhookReplayFailed,
      Metric.WebhookCheckFailed,
      Metric.EncryptedDmReceived,
      Metric.XAccessRevoked,
    ]) {
      expect(body).toContain(`\\"${METRIC_NAMESPACE}\\",\\"${name}\\",\\"service\\",\\"${SERVICE_NAME}\\",\\"tenant\\",\\"example-tickets\\"`);
    }
  });

  it('relay mode shows no outbound side: no DMs sent by the bridge, no outbound DLQ', () => {
    const { body } = bodyOf(relayTemplate);
    expect(body).toContain(Metric.DeliveredTo4biz);
    expect(body).not.toContain(Metric.DmSent);
    expect(body).not.toContain('outbound DLQ');
  });
});
