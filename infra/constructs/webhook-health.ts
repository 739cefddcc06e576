import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { TenantConfig } from '../tenant-config';
import { BridgeFunction } from './bridge-function';
import type { ConversationTable } from './conversation-table';

/** How often the webhook's health is checked (an outage costs no DM: the gap is replayed). */
export const WEBHOOK_HEALTH_MINUTES = 15;

export interface WebhookHealthProps {
  tenant: TenantConfig;
  secret: ISecret;
  table: ConversationTable;
  /** The URL registered with X: the function finds its webhook by it and runs the CRC check against it. */
  webhookUrl: string;
}

/**
 * Every 15 minutes: reads X's `valid` flag of the tenant's webhook, re-validates it when X disabled
 * it, checks our endpoint answers CRC, and asks X to replay the gap once it is good again.
 */
export class WebhookHealth extends Construct {
  /** The Lambda function this construct builds. */
  readonly fn: NodejsFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: WebhookHealthProps) {
    super(scope, id);
    const { tenant } = props;
    this.fn = new BridgeFunction(this, 'WebhookHealth', {
      tenant,
      name: 'webhook-health',
      description: `X webhook health: re-validate and replay missed deliveries, tenant ${tenant.name}`,
      // X calls (list, re-validate with its CRC round trip, replay) and our own CRC check, each under 10 s.
      timeout: Duration.seconds(60),
      secret: props.secret,
      environment: {
        tableName: props.table.tableName,
        webhookUrl: props.webhookUrl,
      },
    }).fn;
    const fn = this.fn;
    // A failed run is not retried: the next scheduled run starts over from the stored state.
    fn.configureAsyncInvoke({ retryAttempts: 0 });
    this.rule = new Rule(this, 'Schedule', {
      description: `Check the X webhook every ${WEBHOOK_HEALTH_MINUTES} min, tenant ${tenant.name}`,
      schedule: Schedule.rate(Duration.minutes(WEBHOOK_HEALTH_MINUTES)),
      targets: [new LambdaFunction(fn, { retryAttempts: 0 })],
    });
    // Its state item and the webhook's refusals item: no scans, no index, no conversation writes.
    props.table.grantActions(fn, ['GetItem', 'PutItem', 'DeleteItem']);
  }
}
