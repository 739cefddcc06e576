import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TenantConfig } from '../tenant-config';
import { BridgeFunction } from './bridge-function';
import type { ConversationTable } from './conversation-table';
import type { XChatKeys } from './xchat-keys';

export interface SenderProps {
  tenant: TenantConfig;
  secret: ISecret;
  table: ConversationTable;
  outboundQueue: IQueue;
  outboundDlq: IQueue;
  /** XChat on: answers to people who wrote in XChat go back encrypted (conversation keys wrapped by this key). */
  xchat?: XChatKeys;
}

/** tickets mode: sends outbound messages as X DMs, waiting out rate limits instead of dropping. */
export class Sender extends Construct {
  /** The Lambda function this construct builds. */
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: SenderProps) {
    super(scope, id);
    const { tenant, outboundQueue } = props;
    this.fn = new BridgeFunction(this, 'Sender', {
      tenant,
      name: 'sender',
      description: `Outbound messages to X DMs, tenant ${tenant.name}`,
      // AWS's advice: the queue's visibility timeout is at least six times the function timeout.
      timeout: Duration.seconds(Math.floor(tenant.outbound.visibilityTimeoutSeconds / 6)),
      secret: props.secret,
      environment: {
        tableName: props.table.tableName,
        outboundQueueUrl: outboundQueue.queueUrl,
        outboundDlqUrl: props.outboundDlq.queueUrl,
        ...(props.xchat ? { xchat: true, xchatKeyArn: props.xchat.key.keyArn, xAccountId: tenant.xAccountId } : {}),
      },
      chatXdk: props.xchat !== undefined,
    }).fn;
    const fn = this.fn;
    fn.addEventSource(
      new SqsEventSource(outboundQueue, {
        batchSize: 10,
        // X rate limits are per app and per account: more senders would only hit 429s sooner.
        maxConcurrency: 2,
        reportBatchItemFailures: true,
      }),
    );
    // Sent-markers and conversations (get, conditional put, in a transaction), attempt counters (update).
    // …and the lease of an OAuth 2.0 token refresh (put, then delete).
    props.table.grantActions(fn, ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);
    // OAuth 2.0 tenants: X rotates the refresh token, so the refreshed tokens are written back to the secret.
    fn.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:PutSecretValue'], resources: [props.secret.secretArn] }));
    // Holding a message back until X's rate-limit reset.
    outboundQueue.grant(fn, 'sqs:ChangeMessageVisibility');
    // The failure policy moves a reply that cannot be sent (refused by its recipient, unreadable, out of attempts) itself.
    props.outboundDlq.grantSendMessages(fn);
    props.xchat?.grantUse(fn);
  }
}
