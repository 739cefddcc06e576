import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Duration } from 'aws-cdk-lib';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TenantConfig } from '../tenant-config';
import { BridgeFunction } from './bridge-function';
import type { ConversationTable } from './conversation-table';

/** Verifies X's signed deliveries and enqueues each DM on the inbound queue (parks it in the table when the queue refuses); records the time of a signed delivery it refuses. */
export class WebhookFunction extends Construct {
  /** The Lambda function this construct builds. */
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: { tenant: TenantConfig; secret: ISecret; inboundQueue: IQueue; table: ConversationTable }) {
    super(scope, id);
    this.fn = new BridgeFunction(this, 'Webhook', {
      tenant: props.tenant,
      name: 'webhook',
      description: `X webhook deliveries to the inbound queue, tenant ${props.tenant.name}`,
      timeout: Duration.seconds(10),
      secret: props.secret,
      environment: { tableName: props.table.tableName, inboundQueueUrl: props.inboundQueue.queueUrl, xAccountId: props.tenant.xAccountId, ...(props.tenant.x.xchat ? { xchat: true } : {}) },
    }).fn;
    props.inboundQueue.grantSendMessages(this.fn);
    // The refusals item alone (webhook health replays them): no read of any conversation.
    props.table.grantRefusalsUpdate(this.fn);
    // Parking: a conditional put of a DM the queue refused, under its own key prefix only.
    props.table.grantInboundParking(this.fn);
  }
}
