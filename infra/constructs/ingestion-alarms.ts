import { Duration } from 'aws-cdk-lib';
import { ComparisonOperator, TreatMissingData, type Alarm, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Metric as MetricName, type MetricName as Name } from '../../functions/core/metric-names';
import type { TenantConfig } from '../tenant-config';
import { fiveMinutes, tenantMetric, webhookDown } from './alarm-metrics';
import { WEBHOOK_HEALTH_MINUTES } from './webhook-health';

export interface AlarmOptions {
  operator?: ComparisonOperator;
  evaluationPeriods?: number;
  treatMissingData?: TreatMissingData;
}

/** Adds one alarm of the tenant (Alarms.add): notifies the topic when it fires and when it clears. */
export type AddAlarm = (id: string, description: string, metric: IMetric, threshold: number, opts?: AlarmOptions) => Alarm;

/** Missing data is the symptom: a scheduled function that stopped publishes nothing. */
const stopped: AlarmOptions = { operator: ComparisonOperator.LESS_THAN_THRESHOLD, treatMissingData: TreatMissingData.BREACHING };

/** Webhook ingestion: X's CRC checks, refused deliveries, the webhook's health and its checker, the secret the webhook reads. */
export function addWebhookAlarms(add: AddAlarm, tenant: TenantConfig, webhookHealth: IFunction | undefined): void {
  const custom = (name: Name) => tenantMetric(tenant.name, name);
  add(
    'CrcFailed',
    'A CRC check from X failed: X disables the webhook after failed checks; check the consumer secret and the crc logs.',
    custom(MetricName.CrcFailed),
    1,
  );
  add(
    'WebhookRejected',
    'The webhook refused a correctly signed delivery (not JSON, nested too deep, not an Account Activity or X Activity API body): X does not retry a 4xx, so whatever it carried is lost. The webhook logs say why; the X event may need a replay (npm run x -- replay).',
    custom(MetricName.WebhookRejected),
    1,
  );
  add(
    'InboundParked',
    'The inbound queue refused DMs and the webhook kept them in the tenant table instead (answered X 200): they wait there, up to 14 days, until requeued. Check SQS (EnqueueFailed), then run npm run dlq -- parked --tenant NAME to list them and npm run dlq -- parked --tenant NAME --requeue to send them on.',
    custom(MetricName.InboundParked),
    1,
  );
  add(
    'OldDmDropped',
    'The webhook dropped a correctly signed DM older than the processed-record lifetime (7 days): X re-delivers at most 24 h back, so it is a captured delivery sent again, and forwarding it would reach 4biz twice. Nothing to redrive; if it keeps coming, rotate the consumer secret (docs/deploy.md).',
    custom(MetricName.OldDmDropped),
    1,
  );
  add(
    'WebhookInvalid',
    'X stopped delivering to the webhook and re-validation did not bring it back (X says invalid, no webhook for the URL, or the endpoint fails the CRC check): see the webhook-health logs and run npm run x -- status. Missed DMs are replayed once it is good again (within 24 h).',
    webhookDown(tenant.name),
    1,
  );
  add(
    'WebhookCheckFailed',
    'The webhook-health function could not check the webhook twice in a row (secret unreadable, X refusing the bearer token, X unreachable): nothing re-validates the webhook or replays missed DMs until it runs again. See the webhook-health logs.',
    // Two failed runs (15 minutes apart) within an hour: one passing hiccup does not page anyone.
    tenantMetric(tenant.name, MetricName.WebhookCheckFailed).with({ period: Duration.hours(1) }),
    2,
  );
  if (webhookHealth) {
    // Four scheduled runs an hour: none at all means its schedule rule or the function is gone.
    const period = Duration.minutes(4 * WEBHOOK_HEALTH_MINUTES);
    add(
      'WebhookHealthNotRunning',
      `The webhook-health function did not run for ${period.toMinutes()} min: nothing notices X disabling the webhook or replays missed DMs. Check its EventBridge schedule rule is enabled and the function exists.`,
      webhookHealth.metricInvocations({ statistic: 'Sum', period }),
      1,
      stopped,
    );
  }
  add(
    'XAccessRevoked',
    'The company X account revoked the app (X Activity API oauth.revoke): no DM arrives until the account authorises the app again and the secret holds the new access token.',
    custom(MetricName.XAccessRevoked),
    1,
  );
  if (tenant.x.xchat) {
    add(
      'XChatDropped',
      'An XChat message was dropped: it did not verify against the sender\'s public keys, could not be decrypted with the company\'s keys, or X\'s chat.received could not be read. The webhook and dispatcher logs say which (never the text); keys in the tenant secret that X no longer has are the usual cause (docs/xchat.md).',
      custom(MetricName.XChatDropped),
      1,
    );
  }
  add(
    'SecretNotFilled',
    'The consumer secret crc and webhook read has no value yet: fill the tenant secret and run npm run x -- consumer-secret (docs/deploy.md, "Filling the secret"); until then X\'s CRC checks and deliveries fail.',
    custom(MetricName.SecretNotFilled),
    1,
  );
  add(
    'SecretUnavailable',
    'The webhook could not read its consumer secret and answered X with 503 (X retries): check the consumer-secret secret exists, holds {"consumerSecret":"…"}, and the function may read it.',
    custom(MetricName.SecretUnavailable),
    1,
  );
}

/** Polling mode: the poller failing, throttled, late, not running at all, or skipping DMs it cannot read. */
export function addDmPollAlarms(add: AddAlarm, tenant: TenantConfig): void {
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
  add(
    'DmEventInvalid',
    'The dm-poller skipped a DM event from X\'s lookup that it could not read (logged without its text, the rest of the page was queued): that DM does not reach 4biz. The dm-poller logs name the event; look it up in X and forward it by hand if it matters.',
    metric(MetricName.DmEventInvalid, 'Sum', fiveMinutes),
    1,
  );
  const stoppedPeriod = Duration.minutes(Math.max(5, Math.ceil((3 * interval) / 60)));
  add(
    'DmPollerStopped',
    `The dm-poller has not run for ${stoppedPeriod.toMinutes()} min: DMs are not being read; check its schedule rule and function.`,
    metric(MetricName.DmPollRuns, 'Sum', stoppedPeriod),
    1,
    stopped,
  );
}
