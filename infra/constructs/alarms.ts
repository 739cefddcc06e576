import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE, Metric as MetricName, metricDimensions, type MetricName as Name } from '../../functions/core/metric-names';
import { resourceNames } from '../resource-names';
import type { TenantConfig } from '../tenant-config';

const fiveMinutes = Duration.minutes(5);

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
function webhookDown(tenant: string): MathExpression {
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

export interface AlarmsProps {
  tenant: TenantConfig;
  inboundQueue: IQueue;
  inboundDlq: IQueue;
  dispatcher: IFunction;
  /** tickets mode only. */
  outbound?: { dlq: IQueue };
}

/** The tenant's alarms and the SNS topic (KMS-encrypted, TLS only) that e-mails the operators. */
export class Alarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { tenant } = props;
    const key = new Key(this, 'TopicKey', {
      description: `Alarm topic of 4biz-twitter-dm tenant ${tenant.name}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch must encrypt what it publishes to the topic.
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', {
      topicName: resourceNames(tenant.name).alarmTopic,
      displayName: `4biz-twitter-dm ${tenant.name} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of tenant.alarms.emails) this.topic.addSubscription(new EmailSubscription(email));

    const prefix = Stack.of(this).stackName;
    const add = (
      id: string,
      description: string,
      metric: IMetric,
      threshold: number,
      opts: { operator?: ComparisonOperator; evaluationPeriods?: number; treatMissingData?: TreatMissingData } = {},
    ) => {
      const alarm = new Alarm(this, id, {
        alarmName: `${prefix}-${id}`,
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
    };
    const dlqDepth = (q: IQueue) => q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) });

    add(
      'InboundDlqNotEmpty',
      'DMs that 4biz never accepted are in the inbound DLQ: find the cause in the dispatcher logs, then redrive (npm run dlq).',
      dlqDepth(props.inboundDlq),
      1,
    );
    if (props.outbound) {
      add(
        'OutboundDlqNotEmpty',
        '4biz replies that could not be sent to X are in the outbound DLQ: check the sender logs, then redrive (npm run dlq).',
        dlqDepth(props.outbound.dlq),
        1,
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
    }
    add(
      'FourbizAuthFailure',
      '4biz refused the bridge\'s credentials (relay: the callback answered 401/403; tickets: login refused). DMs are retried meanwhile and reach the DLQ after their attempts: fix the secret or the 4biz interaction.',
      tenantMetric(tenant.name, MetricName.FourbizAuthFailure),
      1,
    );
    // Polling has no webhook, so no CRC, webhook health or X Activity API events: its own alarms instead.
    if (polling) this.addDmPollAlarms(tenant, add);
    else {
      add(
        'CrcFailed',
        'A CRC check from X failed: X disables the webhook after failed checks; check the consumer secret and the crc logs.',
        tenantMetric(tenant.name, MetricName.CrcFailed),
        1,
      );
      add(
        'WebhookInvalid',
        'X stopped delivering to the webhook and re-validation did not bring it back (X says invalid, no webhook for the URL, or the endpoint fails the CRC check): see the webhook-health logs and run npm run x -- status. Missed DMs are replayed once it is good again (within 24 h).',
        webhookDown(tenant.name),
        1,
      );
      add(
        'XAccessRevoked',
        'The company X account revoked the app (X Activity API oauth.revoke): no DM arrives until the account authorises the app again and the secret holds the new access token.',
        tenantMetric(tenant.name, MetricName.XAccessRevoked),
        1,
      );
    }
    add(
      'DispatcherErrors',
      'The dispatcher function failed (not a single message): check its logs; inbound DMs stay queued meanwhile.',
      props.dispatcher.metricErrors({ statistic: 'Sum', period: fiveMinutes }),
      1,
    );
  }

  /** Polling mode: the poller failing, throttled, late, or not running at all. */
  private addDmPollAlarms(tenant: TenantConfig, add: (id: string, description: string, metric: IMetric, threshold: number, opts?: { operator?: ComparisonOperator; evaluationPeriods?: number; treatMissingData?: TreatMissingData }) => void): void {
    const interval = tenant.x.pollIntervalSeconds;
    const metric = (name: Name, statistic: string, period: Duration) => tenantMetric(tenant.name, name, statistic).with({ period });
    const quarterHour = Duration.minutes(15);
    add(
      'DmPollFailed',
      'DM polls keep failing (X errors, the queue or the table): DMs are not lost but wait; check the dm-poller logs.',
      metric(MetricName.DmPollFailed, 'Sum', quarterHour),
      3,
    );
    add(
      'DmPollRateLimited',
      'X keeps answering the DM lookup with 429 (15 lookups per 15 minutes per user): raise x.pollIntervalSeconds, or find the other app using this account\'s quota.',
      metric(MetricName.DmPollRateLimited, 'Sum', Duration.hours(1)),
      3,
    );
    const lagSeconds = Math.max(300, 3 * interval);
    add(
      'DmPollLag',
      `DMs reach the bridge more than ${lagSeconds} s after they were sent: the poller is catching up a backlog or X is throttling it.`,
      metric(MetricName.DmPollLag, 'Maximum', fiveMinutes),
      lagSeconds,
      { operator: ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 2 },
    );
    // Missing data is the symptom here: a poller that never runs publishes nothing.
    const stoppedPeriod = Duration.minutes(Math.max(5, Math.ceil((3 * interval) / 60)));
    add(
      'DmPollerStopped',
      `The dm-poller has not run for ${stoppedPeriod.toMinutes()} min: DMs are not being read; check its schedule rule and function.`,
      metric(MetricName.DmPollRuns, 'Sum', stoppedPeriod),
      1,
      { operator: ComparisonOperator.LESS_THAN_THRESHOLD, treatMissingData: TreatMissingData.BREACHING },
    );
  }
}
