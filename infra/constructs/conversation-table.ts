import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, CfnTable, Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { TableLayout as Schema } from '../../functions/adapters/conversation-table';
import { processedKey } from '../../functions/core/processed-key';
import { resourceNames } from '../resource-names';
import type { TenantConfig } from '../tenant-config';

/** The item actions the store uses (transactions are authorised per contained action). */
export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query' | 'ConditionCheckItem';

/** Conversation state and processed-event markers; the key schema is shared with the store. */
export class ConversationTable extends Construct {
  readonly tableName: string;
  readonly tableArn: string;
  private readonly table: Table;

  constructor(scope: Construct, id: string, props: { tenant: TenantConfig }) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      tableName: resourceNames(props.tenant.name).table,
      partitionKey: { name: Schema.partitionKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: Schema.ttlAttribute,
      // Conversations outlive the stack: deleting it must not lose who was talking to whom.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: Schema.openIndex.name,
      partitionKey: { name: Schema.openIndex.partitionKey, type: AttributeType.STRING },
      sortKey: { name: Schema.openIndex.sortKey, type: AttributeType.STRING },
    });
    this.tableName = this.table.tableName;
    this.tableArn = this.table.tableArn;
  }

  /** UpdateItem on the webhook's refusals item alone (its partition key, IAM's LeadingKeys condition). */
  grantRefusalsUpdate(fn: IFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [Schema.webhookRefusalsKey] } },
      }),
    );
  }

  /** PutItem on parked inbound messages alone (their key prefix, IAM's LeadingKeys condition): the webhook parks what the queue refuses. */
  grantInboundParking(fn: IFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [this.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${Schema.parkedKey(processedKey.inbound(''))}*`] } },
      }),
    );
  }

  /**
   * Only the DynamoDB actions a function uses (least privilege), on the table, and on its index
   * only for a function that queries (the index ARN wildcard is the only way IAM names a table's indexes).
   */
  grantActions(fn: IFunction, actions: TableAction[]): void {
    const queries = actions.includes('Query');
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: actions.map((a) => `dynamodb:${a}`),
        resources: queries ? [this.tableArn, `${this.tableArn}/index/*`] : [this.tableArn],
      }),
    );
    if (!queries) return;
    const tableId = Stack.of(this).getLogicalId(this.table.node.defaultChild as CfnTable);
    NagSuppressions.addResourceSuppressions(
      fn.role!,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'Queries on the conversation table\'s own indexes (open-conversations); IAM names them only as table/index/*.',
          appliesTo: [`Resource::<${tableId}.Arn>/index/*`],
        },
      ],
      true,
    );
  }
}
