import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Metric as MetricName, type MetricName as Name } from '../../functions/core/metric-names';
import { resourceNames } from '../resource-names';
import type { TenantConfig } from '../tenant-config';
import { fiveMinutes, fourbizErrorRate, tenantMetric, xSpendPerDay } from './alarm-metrics';
import { addDmPollAlarms, addWebhookAlarms, type AlarmOptions } from './ingestion-alarms';

export interface AlarmsProps {
  tenant: TenantConfig;
  /** Webhook ingestion only: the HTTP API X calls. */
  api?: HttpApi;
  inboundQueue: IQueue;
  inboundDlq: IQueue;
  /** Every function of the tenant by label (crc, webhook, dispatcher, webhook-health, dm-poller, poller, sender): each gets an errors and a throttles alarm. */
  functions: Record<string, IFunction>;
  /** tickets mode only. */
  outbound?: { dlq: IQueue };
  /** tickets mode only: the scheduled 4biz poller, which must run every `scheduleMinutes`. */
  poller?: { fn: IFunction; scheduleMinutes: number };
}

/** `webhook-health` → `WebhookHealth`: the alarm id of a function label. */
const pascalCase = (label: string) => label.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');

/**
 * The tenant's alarms and the SNS topic (KMS-encrypted, TLS only) that e-mails the operators.
 * Every alarm is named `STACK-Id`, notifies the topic when it fires and when it clears; only
 * this account's alarms of this stack may publish to the topic; CloudWatch may use its key.
 */
export class Alarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { tenant } = props;
    this.prefix = Stack.of(this).stackName;
    const cloudwatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    // Confused-deputy guard: CloudWatch acts for this account's alarms of this stack only.
    const onlyOurAlarms = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:${this.prefix}-*` },
    };
    const key = new Key(this, 'TopicKey', {
      description: `Alarm topic of 4biz-twitter-dm tenant ${tenant.name}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch must encrypt what it publishes to the encrypted topic. No aws:SourceAccount /
    // aws:SourceArn here: AWS documents them for the topic policy below (CloudWatch user guide,
    // "Preventing confused deputy security issues") but not on the KMS requests SNS makes for
    // CloudWatch, and a condition those requests lack would fail every alarm e-mail. The SNS guide's
    // statement for AWS event sources is this one, unconditioned; the key serves this topic only, and
    // the topic policy admits only this stack's alarms (docs/deploy.md, "Alarms").
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchEncryptsForTheTopic',
        principals: [cloudwatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      topicName: resourceNames(tenant.name).alarmTopic,
      displayName: `4biz-twitter-dm ${tenant.name} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy replaces SNS's default one: without this statement no alarm could notify.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AlarmsOfThisStackPublish',
        principals: [cloudwatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: onlyOurAlarms,
      }),
    );
    for (const email of tenant.alarms.emails) this.topic.addSubscription(new EmailSubscription(email));

    const add = this.add.bind(this);
    const custom = (name: Name) => tenantMetric(tenant.name, name);
    const dlqDepth = (q: IQueue) => q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) });
    // CloudWatch counts a queue as active, and SQS publishes its metrics, only up to six hours after
    // its last activity (docs/deploy.md, "Alarms"): a DLQ nobody touches may go silent while it
    // still holds messages. Missing data keeps the alarm where it was: a DLQ that holds messages
    // stays in ALARM until it is emptied (which is activity), an empty idle one stays OK.
    const dlqOptions: AlarmOptions = { treatMissingData: TreatMissingData.IGNORE };

    add(
      'InboundDlqNotEmpty',
      'DMs that 4biz never accepted are in the inbound DLQ: find the cause in the dispatcher logs, then redrive (npm run dlq).',
      dlqDepth(props.inboundDlq),
      1,
      dlqOptions,
    );
    if (props.outbound) {
      add(
        'OutboundDlqNotEmpty',
        '4biz replies that could not be sent to X are in the outbound DLQ: check the sender logs, then redrive (npm run dlq).',
        dlqDepth(props.outbound.dlq),
        1,
        dlqOptions,
      );
    }
    add(
      'InboundOldestMessageAge',
      `The oldest inbound DM waits more than ${tenant.alarms.oldestMessageAgeSeconds} s: 4biz is slow or down, or the dispatcher is failing.`,
      props.inboundQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(1) }),
      tenant.alarms.oldestMessageAgeSeconds,
      { operator: ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 3 },
    );
    add(
      'FourbizErrorRate',
      `More than ${tenant.alarms.fourbizErrorRatePercent}% of calls to 4biz fail: check 4biz availability and the dispatcher logs.`,
      fourbizErrorRate(tenant.name),
      tenant.alarms.fourbizErrorRatePercent,
      { operator: ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 2 },
    );
    const polling = tenant.x.ingestion === 'poll';
    // Tickets mode sends DMs with the tenant's X keys, polling mode reads them with those keys.
    if (tenant.fourbiz.mode === 'tickets' || polling) {
      add(
        'XAuthFailure',
        'X rejected the tenant credentials: check the access token and consumer keys in the tenant secret.',
        tenantMetric(tenant.name, MetricName.XAuthFailure),
        1,
      );
      add(
        'XCreditsDepleted',
        "X answered 402 CreditsDepleted: the X app's pay-per-use credits are used up. Replies and DM lookups wait (nothing is dead-lettered for it) until credits are bought in X's developer console.",
        tenantMetric(tenant.name, MetricName.XCreditsDepleted),
        1,
      );
      add(
        'XTokenRefreshFailed',
        "The tenant's OAuth 2.0 user token could not be refreshed (X refused the refresh token, or the new one could not be stored in the secret): replies and DM lookups wait. Run npm run x -- authorize --tenant NAME.",
        tenantMetric(tenant.name, MetricName.XTokenRefreshFailed),
        1,
      );
    }
    const budget = tenant.x.monthlyBudgetUsd;
    if (budget !== undefined) {
      add(
        'XSpend',
        `The bridge's billable X calls of the last day would cost more than a 30th of the tenant's monthly X budget ($${budget}): X is on pace to bill more than the budget this month. Check the DM volume and, in polling mode, the page sizes (docs/polling-mode.md).`,
        xSpendPerDay(tenant),
        Math.round((budget / 30) * 100) / 100,
        { operator: ComparisonOperator.GREATER_THAN_THRESHOLD },
      );
    }
    // Only the sender sends DMs: X's daily DM cap and usage cap concern tickets mode.
    if (tenant.fourbiz.mode === 'tickets') {
      add(
        'XCapReached',
        "X's daily DM cap (1,440 a day per user and per app) or the app's usage cap is reached: replies wait until the reset X announced. Find what sends so many DMs, or raise the app's cap with X.",
        tenantMetric(tenant.name, MetricName.XCapReached),
        1,
      );
    }
    add(
      'FourbizOutage',
      '4biz fails for several people: the outage circuit is open and DMs wait, in order and without spending attempts, until a delivery succeeds or inbound.outageWaitHours passes. Check 4biz; nothing to redrive.',
      tenantMetric(tenant.name, MetricName.FourbizOutageWait),
      1,
    );
    add(
      'FourbizAuthFailure',
      '4biz refused the bridge\'s credentials (relay: the callback answered 401/403; tickets: login refused). DMs wait meanwhile (an outage when it hits several people): fix the secret or the 4biz interaction.',
      tenantMetric(tenant.name, MetricName.FourbizAuthFailure),
      1,
    );
    // Polling has no webhook, so no CRC, webhook health or X Activity API events: its own alarms instead.
    if (polling) addDmPollAlarms(add, tenant);
    else addWebhookAlarms(add, tenant, props.functions['webhook-health']);
    add(
      'EnqueueFailed',
      'A queue refused messages (webhook: inbound DMs, parked in the table (InboundParked) or retried by X; dm-poller: read again next poll; tickets poller: replies, read again next poll): check SQS in this region and those functions\' logs.',
      custom(MetricName.EnqueueFailed),
      1,
    );
    if (props.api) {
      add(
        'WebhookApiServerErrors',
        'The webhook API answered X with 5xx: X retries, then gives up; check the webhook and crc alarms and logs.',
        props.api.metricServerError({ statistic: 'Sum', period: fiveMinutes }),
        1,
      );
    }
    for (const [label, fn] of Object.entries(props.functions)) this.addFunctionAlarms(label, fn);
    if (props.poller) {
      // The schedule fires every scheduleMinutes: no invocation in three intervals (at least 5 min) means it stopped.
      const period = Duration.minutes(Math.max(5, 3 * props.poller.scheduleMinutes));
      add(
        'PollerNotRunning',
        `The poller did not run for ${period.toMinutes()} min: 4biz replies are not read. Check the EventBridge schedule rule is enabled and the poller's logs.`,
        props.poller.fn.metricInvocations({ statistic: 'Sum', period }),
        1,
        { operator: ComparisonOperator.LESS_THAN_THRESHOLD, treatMissingData: TreatMissingData.BREACHING },
      );
    }
  }

  /** An alarm that notifies the topic when it fires and when it clears; no data is not a failure unless said. */
  add(id: string, description: string, metric: IMetric, threshold: number, opts: AlarmOptions = {}): Alarm {
    const alarm = new Alarm(this, id, {
      alarmName: `${this.prefix}-${id}`,
      alarmDescription: description,
      metric,
      threshold,
      comparisonOperator: opts.operator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: opts.evaluationPeriods ?? 1,
      treatMissingData: opts.treatMissingData ?? TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  /** `LabelErrors` and `LabelThrottles`: the function failed as a whole, or Lambda refused to run it. */
  private addFunctionAlarms(label: string, fn: IFunction): void {
    const name = pascalCase(label);
    this.add(
      `${name}Errors`,
      `The ${label} function failed (timeout, crash, bad configuration or secret), not a single message: read its logs. Queued messages stay queued and are retried.`,
      fn.metricErrors({ statistic: 'Sum', period: fiveMinutes }),
      1,
    );
    this.add(
      `${name}Throttles`,
      `Lambda throttled the ${label} function: the account's concurrency is exhausted (npm run doctor shows the quota). Request a higher quota or lower inbound.maxConcurrency.`,
      fn.metricThrottles({ statistic: 'Sum', period: fiveMinutes }),
      1,
    );
  }
}
