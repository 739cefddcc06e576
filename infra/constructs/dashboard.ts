import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AlarmStatusWidget,
  Dashboard as CwDashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  type Metric,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { emittedBy, Metric as MetricName, type EmittingFunction, type MetricName as Name } from '../../functions/core/metric-names';
import { resourceNames } from '../resource-names';
import { fourbizErrorRate, tenantMetric } from './alarm-metrics';
import type { TenantConfig } from '../tenant-config';

export interface DashboardProps {
  tenant: TenantConfig;
  /** Webhook ingestion only. */
  api?: HttpApi;
  inboundQueue: IQueue;
  inboundDlq: IQueue;
  /** tickets mode only. */
  outbound?: { queue: IQueue; dlq: IQueue };
  /** The tenant's functions by name: their invocations, errors and durations, and only the custom metrics they emit. */
  functions: Partial<Record<EmittingFunction, IFunction>>;
  alarms: IAlarm[];
}

const period = Duration.minutes(5);
/** A graph of the lines given (undefined ones are metrics this tenant does not emit); none left, no graph. */
function graph(title: string, left: (IMetric | undefined)[], right: (IMetric | undefined)[] = []): GraphWidget | undefined {
  const [l, r] = [left.filter((m) => m !== undefined), right.filter((m) => m !== undefined)];
  return l.length + r.length > 0 ? new GraphWidget({ title, left: l, right: r, width: 8, height: 6, period }) : undefined;
}

/** One dashboard per tenant: the webhook, the queues, the functions and the bridge's own metrics. */
export class Dashboard extends Construct {
  readonly dashboard: CwDashboard;
  /** The CloudWatch console page of the dashboard. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const { api } = props;
    const tenant = props.tenant.name;
    // Each mode sees only the metrics its own functions emit (core/metric-names.ts emittedBy).
    const emitted = new Set<Name>((Object.keys(props.functions) as EmittingFunction[]).flatMap((fn) => emittedBy[fn]));
    const custom = (name: Name, statistic?: string) => (emitted.has(name) ? tenantMetric(tenant, name, statistic) : undefined);
    const fns = Object.entries(props.functions);
    const perFunction = (f: (fn: IFunction) => Metric) => fns.map(([label, fn]) => f(fn).with({ label }));

    const rows: (IWidget | undefined)[][] = [
      [new AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: 24, height: 3 })],
      ...(api
        ? [
            [
              graph('Webhook API requests', [api.metricCount({ statistic: 'Sum' })]),
              graph('Webhook API 4xx / 5xx', [api.metricClientError({ statistic: 'Sum' }), api.metricServerError({ statistic: 'Sum' })]),
              graph('Webhook API latency', [
                api.metricLatency({ statistic: 'p50', label: 'p50' }),
                api.metricLatency({ statistic: 'p99', label: 'p99' }),
              ]),
            ],
          ]
        : []),
      ...(props.functions['dm-poller']
        ? [
            [
              graph('DMs polled (GET /2/dm_events)', [
                custom(MetricName.DmPolled),
                custom(MetricName.EchoDropped),
                custom(MetricName.EventIgnored),
                custom(MetricName.DmEventInvalid),
              ]),
              graph('DM polls', [
                custom(MetricName.DmPollRuns),
                custom(MetricName.DmPollFailed),
                custom(MetricName.DmPollRateLimited)?.with({ label: '429s' }),
                custom(MetricName.XAuthFailure)?.with({ label: '401/403' }),
              ]),
              graph('DM poll lag (s, age of the newest DM when a poll ends)', [custom(MetricName.DmPollLag, 'Maximum')]),
            ],
          ]
        : []),
      [
        graph('Inbound queue depth', [
          props.inboundQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'visible' }),
          props.inboundQueue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', label: 'in flight' }),
          ...(props.outbound
            ? [props.outbound.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'outbound visible' })]
            : []),
        ]),
        graph('Inbound age of oldest message (s)', [
          props.inboundQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum' }),
        ]),
        graph('DLQ depths', [
          props.inboundDlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'inbound DLQ' }),
          ...(props.outbound
            ? [props.outbound.dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'outbound DLQ' })]
            : []),
        ]),
      ],
      [
        graph('Function invocations', perFunction((fn) => fn.metricInvocations({ statistic: 'Sum' }))),
        graph('Function errors', perFunction((fn) => fn.metricErrors({ statistic: 'Sum' }))),
        graph('Function throttles', perFunction((fn) => fn.metricThrottles({ statistic: 'Sum' }))),
      ],
      [
        graph('Function duration p99 (ms)', perFunction((fn) => fn.metricDuration({ statistic: 'p99' }))),
        graph('DMs in', [custom(MetricName.DmReceived), custom(MetricName.EchoDropped), custom(MetricName.DeliveredTo4biz)]),
        graph('Webhook and CRC failures', [
          custom(MetricName.CrcFailed),
          custom(MetricName.WebhookRejected),
          custom(MetricName.EnqueueFailed),
          custom(MetricName.SecretNotFilled),
          custom(MetricName.SecretUnavailable),
        ]),
        graph('4biz latency (ms)', [
          custom(MetricName.FourbizLatency, 'p50')?.with({ label: 'p50' }),
          custom(MetricName.FourbizLatency, 'p99')?.with({ label: 'p99' }),
        ]),
      ],
      [
        graph(
          '4biz errors by class',
          [custom(MetricName.FourbizTransientError), custom(MetricName.FourbizPermanentError)],
          [fourbizErrorRate(tenant)],
        ),
        ...(props.outbound
          ? [
              graph('DMs out (X)', [custom(MetricName.DmSent), custom(MetricName.XRateLimited), custom(MetricName.RepliesQueued), custom(MetricName.ConversationsPolled), custom(MetricName.RecipientRefusedDm)]),
              // How long answers wait for X's limits (15 DMs per 15 minutes, daily caps) and retries.
              // The poller's schedule: active conversations (a DM within the hour) polled at least every two minutes.
              graph('4biz polls: conversations polled, left to the next run; longest wait of an active one (s)', [
                custom(MetricName.ConversationsPolled),
                custom(MetricName.PollsDeferred),
                custom(MetricName.ActivePollWaitSeconds, 'Maximum')?.with({ label: 'active wait max (s)' }),
              ]),
              graph('Answer wait before sending (s)', [custom(MetricName.ReplyWaitSeconds, 'p50')?.with({ label: 'p50' }), custom(MetricName.ReplyWaitSeconds, 'Maximum')?.with({ label: 'max' })]),
            ]
          : []),
      ],
      [
        // What was refused at the door, and why: forged or foreign deliveries, CRC oracle attempts, auth failures.
        graph('Refused and dropped', [
          custom(MetricName.ForeignAccountDropped),
          custom(MetricName.WebhookRejected),
          custom(MetricName.WebhookUnauthenticated),
          custom(MetricName.CrcRejected),
          custom(MetricName.OldDmReceived),
          custom(MetricName.OldDmDropped),
          custom(MetricName.FourbizAuthFailure),
        ]),
        ...(api
          ? [
              graph('X webhook health', [
                custom(MetricName.WebhookInvalid),
                custom(MetricName.WebhookUnreachable),
                custom(MetricName.WebhookRevalidated),
                custom(MetricName.WebhookReplayStarted),
                custom(MetricName.WebhookReplayFailed),
                custom(MetricName.WebhookCheckFailed),
              ]),
            ]
          : []),
        graph('X events not forwarded', [
          custom(MetricName.EncryptedDmReceived),
          custom(MetricName.XChatDropped),
          custom(MetricName.XChatAttachmentNotForwarded),
          custom(MetricName.XAccessRevoked),
          custom(MetricName.EventIgnored),
        ]),
      ],
    ];

    const widgets = rows.map((row) => row.filter((w) => w !== undefined)).filter((row) => row.length > 0);
    const region = Stack.of(this).region;
    const dashboardName = resourceNames(tenant).dashboard(region);
    this.dashboard = new CwDashboard(this, 'Dashboard', { dashboardName, widgets });
    this.url = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${dashboardName}`;
  }
}
