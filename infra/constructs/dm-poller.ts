import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TenantConfig } from '../tenant-config';
import { BridgeFunction } from './bridge-function';
import type { ConversationTable } from './conversation-table';

export interface DmPollerProps {
  tenant: TenantConfig;
  secret: ISecret;
  table: ConversationTable;
  inboundQueue: IQueue;
}

/**
 * Polling mode: reads the company's DMs from X's DM lookup (GET /2/dm_events) on a schedule and
 * queues the new ones on the inbound queue. One run at a time through a lease in the table.
 */
export class DmPoller extends Construct {
  /** The Lambda function this construct builds. */
  readonly fn: NodejsFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: DmPollerProps) {
    super(scope, id);
    const { tenant } = props;
    const { pollIntervalSeconds, pollBackfillMinutes } = tenant.x;
    this.fn = new BridgeFunction(this, 'DmPoller', {
      tenant,
      name: 'dm-poller',
      description: `X DM lookup to the inbound queue, tenant ${tenant.name}`,
      // One run ends before the next one starts (the lease covers a run that does not).
      timeout: Duration.seconds(Math.min(pollIntervalSeconds - 10, 900)),
      secret: props.secret,
      environment: {
        tableName: props.table.tableName,
        inboundQueueUrl: props.inboundQueue.queueUrl,
        xAccountId: tenant.xAccountId,
        pollBackfillMinutes,
      },
    }).fn;
    const fn = this.fn;
    // A failed run is not retried: the next scheduled run starts where it stopped.
    fn.configureAsyncInvoke({ retryAttempts: 0 });
    this.rule = new Rule(this, 'Schedule', {
      description: `Poll X for DMs every ${pollIntervalSeconds / 60} min, tenant ${tenant.name}`,
      schedule: Schedule.rate(Duration.minutes(pollIntervalSeconds / 60)),
      targets: [new LambdaFunction(fn, { retryAttempts: 0 })],
    });
    // The cursor and the lease: single items, no index queries.
    props.table.grantActions(fn, ['GetItem', 'PutItem', 'DeleteItem']);
    // OAuth 2.0 tenants: X rotates the refresh token, so the refreshed tokens are written back to the secret.
    fn.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:PutSecretValue'], resources: [props.secret.secretArn] }));
    props.inboundQueue.grantSendMessages(fn);
  }
}
