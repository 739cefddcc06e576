import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { pollerTimeoutSeconds, type TicketsSettings } from '../../functions/config';
import type { TenantConfig } from '../tenant-config';
import { BridgeFunction } from './bridge-function';
import type { ConversationTable } from './conversation-table';

export interface PollerProps {
  tenant: TenantConfig;
  settings: TicketsSettings;
  secret: ISecret;
  table: ConversationTable;
  outboundQueue: IQueue;
}

/** tickets mode: reads 4biz occurrences of open conversations on a schedule and queues the replies. */
export class Poller extends Construct {
  /** The Lambda function this construct builds. */
  readonly fn: NodejsFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: PollerProps) {
    super(scope, id);
    const { tenant, settings } = props;
    this.fn = new BridgeFunction(this, 'Poller', {
      tenant,
      name: 'poller',
      description: `4biz replies to the outbound queue, tenant ${tenant.name}`,
      // One poll ends before the next one starts; the lease in the table covers a run that overlaps anyway.
      timeout: Duration.seconds(pollerTimeoutSeconds(settings)),
      secret: props.secret,
      environment: {
        tableName: props.table.tableName,
        fourbiz: settings,
        outboundQueueUrl: props.outboundQueue.queueUrl,
      },
    }).fn;
    const fn = this.fn;
    // A failed poll is not retried: the next scheduled poll reads the same occurrences again.
    fn.configureAsyncInvoke({ retryAttempts: 0 });
    this.rule = new Rule(this, 'Schedule', {
      description: `Poll 4biz for replies every ${settings.pollScheduleMinutes} min, tenant ${tenant.name}`,
      schedule: Schedule.rate(Duration.minutes(settings.pollScheduleMinutes)),
      targets: [new LambdaFunction(fn, { retryAttempts: 0 })],
    });
    // Open conversations (index query), their updates, and the run lease (conditional put and delete).
    props.table.grantActions(fn, ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query']);
    props.outboundQueue.grantSendMessages(fn);
  }
}
