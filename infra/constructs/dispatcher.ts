import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { dispatcherTimeoutSeconds, type TenantConfig } from '../tenant-config';
import { BridgeFunction } from './bridge-function';
import type { ConversationTable } from './conversation-table';
import type { FifoQueue } from './fifo-queue';
import type { XChatKeys } from './xchat-keys';

export interface DispatcherProps {
  tenant: TenantConfig;
  secret: ISecret;
  table: ConversationTable;
  inbound: FifoQueue;
  /** XChat on: the key that wraps conversation keys (the dispatcher decrypts XChat messages). */
  xchat?: XChatKeys;
}

/** Delivers inbound messages to 4biz, one SQS batch at a time, reporting per-message failures. */
export class Dispatcher extends Construct {
  /** The Lambda function this construct builds. */
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: DispatcherProps) {
    super(scope, id);
    const { tenant } = props;
    const { queue: inboundQueue, dlq: inboundDlq } = props.inbound;
    this.fn = new BridgeFunction(this, 'Dispatcher', {
      tenant,
      name: 'dispatcher',
      description: `Inbound messages to 4biz (${tenant.fourbiz.mode}), tenant ${tenant.name}`,
      // AWS's advice: the queue's visibility timeout is at least six times the function timeout.
      timeout: Duration.seconds(dispatcherTimeoutSeconds(tenant)),
      secret: props.secret,
      environment: {
        tableName: props.table.tableName,
        fourbiz: tenant.fourbiz,
        conversationIdleMinutes: tenant.conversationIdleMinutes,
        inboundQueueUrl: inboundQueue.queueUrl,
        inboundDlqUrl: inboundDlq.queueUrl,
        outageWaitHours: tenant.inbound.outageWaitHours,
        // Polling's backfill: DMs that old are expected, and their processed records live as long.
        ...(tenant.x.ingestion === 'poll' ? { pollBackfillMinutes: tenant.x.pollBackfillMinutes } : {}),
        ...(props.xchat ? { xchatKeyArn: props.xchat.key.keyArn, xAccountId: tenant.xAccountId } : {}),
      },
      chatXdk: props.xchat !== undefined,
    }).fn;
    const fn = this.fn;
    fn.addEventSource(
      new SqsEventSource(inboundQueue, {
        batchSize: tenant.inbound.batchSize,
        maxConcurrency: tenant.inbound.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    // Conversations and processed records (get, conditional put, in a transaction), attempt counters
    // and the outage circuit (update). Tickets mode downloads DM media: an OAuth 2.0 tenant's token
    // may need a refresh, under a lease (put, then delete), its rotated tokens written back to the secret.
    const tickets = tenant.fourbiz.mode === 'tickets';
    props.table.grantActions(fn, tickets ? ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'] : ['GetItem', 'PutItem', 'UpdateItem']);
    if (tickets) fn.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:PutSecretValue'], resources: [props.secret.secretArn] }));
    // Backing off a message that 4biz refused for now.
    inboundQueue.grant(fn, 'sqs:ChangeMessageVisibility');
    // A message that can never be delivered goes to the DLQ at once instead of after every retry.
    inboundDlq.grantSendMessages(fn);
    props.xchat?.grantUse(fn);
  }
}
