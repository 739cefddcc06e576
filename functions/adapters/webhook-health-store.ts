import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RefusedDeliveryLog, WebhookHealthStore } from '../core/ports';
import { refusalsSchema, webhookHealthStateSchema } from '../core/webhook-health-state';
import { TableLayout } from './conversation-table';

const refusalsKey = { [TableLayout.partitionKey]: TableLayout.webhookRefusalsKey };

/**
 * The webhook-health state in the conversation table under its own key (`pk=WEBHOOK#health`): one
 * scheduled run at a time writes it, so a plain put is enough. An item that does not parse (written
 * by an older version, edited by hand) counts as no state: the next run starts over, replaying at
 * most X's 24 h, which the event-id de-duplication absorbs. The webhook's refusals are a second
 * item (`pk=WEBHOOK#refused`), which the webhook writes and this store clears.
 */
export function dynamoWebhookHealthStore(doc: DynamoDBDocumentClient, tableName: string): WebhookHealthStore {
  const Key = { [TableLayout.partitionKey]: TableLayout.webhookHealthKey };
  return {
    async get() {
      const out = await doc.send(new GetCommand({ TableName: tableName, Key, ConsistentRead: true }));
      const parsed = webhookHealthStateSchema.safeParse(out.Item?.state);
      return parsed.success ? parsed.data : undefined;
    },
    async put(state) {
      // The JSON round trip drops the undefined fields the document client refuses to marshal.
      const item = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
      await doc.send(new PutCommand({ TableName: tableName, Item: { ...Key, state: item, updatedAt: new Date().toISOString() } }));
    },
    async refusals() {
      const out = await doc.send(new GetCommand({ TableName: tableName, Key: refusalsKey, ConsistentRead: true }));
      const parsed = refusalsSchema.safeParse(out.Item);
      return parsed.success ? { firstAt: parsed.data.firstAt, lastAt: parsed.data.lastAt } : undefined;
    },
    async clearRefusals(read) {
      try {
        await doc.send(new DeleteCommand({ TableName: tableName, Key: refusalsKey, ConditionExpression: 'lastAt = :lastAt', ExpressionAttributeValues: { ':lastAt': read.lastAt } }));
      } catch (err) {
        // The webhook refused another delivery meanwhile: the item stays for the next run.
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    },
  };
}

/**
 * The webhook's record of the signed deliveries it refused: one item, the first refusal kept
 * (`if_not_exists`), the last overwritten. Cheap and idempotent; no body, no DM, only times.
 */
export function dynamoRefusedDeliveryLog(doc: DynamoDBDocumentClient, tableName: string): RefusedDeliveryLog {
  return {
    async record(atMs) {
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: refusalsKey,
          UpdateExpression: 'SET firstAt = if_not_exists(firstAt, :at), lastAt = :at',
          ExpressionAttributeValues: { ':at': atMs },
        }),
      );
    },
  };
}
