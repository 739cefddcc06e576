import { ConditionalCheckFailedException, CreateTableCommand, TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** A conditional write (or a transaction holding one) lost: the item was not as the condition said. */
export function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || err instanceof TransactionCanceledException;
}
import type { ProcessedKey } from '../core/processed-key';

/**
 * The conversation table's key schema, shared by the CDK construct, the DynamoDB store and the
 * local/test table creation so they cannot drift apart.
 */
export const TableLayout = {
  partitionKey: 'pk',
  ttlAttribute: 'expiresAt',
  /** Sparse index: only open conversations carry `openStatus`, so the poller reads just those. */
  openIndex: { name: 'open-conversations', partitionKey: 'openStatus', sortKey: 'lastActivityAt' },
  conversationKey: (xUserId: string) => `CONV#${xUserId}`,
  /** Processed records: `EVT#IN#<DM event id>`, `EVT#SENT#<reply source id>`. */
  eventKey: (key: ProcessedKey) => `EVT#${key}`,
  /** An inbound message the queue refused, kept for `npm run dlq -- parked --requeue` (adapters/inbound-parking.ts). */
  parkedKey: (key: ProcessedKey) => `PARKED#${key}`,
  /** Failed attempts of a message, for the failure policy. */
  attemptKey: (key: ProcessedKey) => `TRY#${key}`,
  /** One run at a time of a scheduled job (core/lease.ts). */
  leaseKey: (name: string) => `LEASE#${name}`,
  /** The webhook-health function's state (one item per tenant table). */
  webhookHealthKey: 'WEBHOOK#health',
  /** The signed deliveries the webhook refused, until webhook health takes them into a replay gap. */
  webhookRefusalsKey: 'WEBHOOK#refused',
  /** The 4biz outage circuit (core/outage-circuit.ts), shared by every dispatcher. */
  circuitKey: 'CIRCUIT#fourbiz',
  /** Where a poller of X (polling mode) has read up to (core/dm-poll.ts). */
  cursorKey: (name: string) => `CURSOR#${name}`,
  /** An XChat conversation's keys, each version wrapped by the tenant's KMS key (adapters/xchat-keys.ts). */
  xchatKeysKey: (conversationId: string) => `XCHAT#${conversationId}`,
  /** An encrypted XChat answer kept for its retries (adapters/xchat-keys.ts). */
  xchatOutboxKey: (outboxId: string) => `XCHATOUT#${outboxId}`,
} as const;

/** Creates the table as the stack does (for DynamoDB Local in tests and `npm start`). */
export async function createConversationTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, openIndex } = TableLayout;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: partitionKey, AttributeType: 'S' },
        { AttributeName: openIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: openIndex.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: openIndex.name,
          KeySchema: [
            { AttributeName: openIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: openIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
}
