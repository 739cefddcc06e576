import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WebhookHealthStore } from '../core/ports';
import { webhookHealthStateSchema } from '../core/webhook-health-state';
import { TableLayout } from './conversation-table';

/**
 * The webhook-health state in the conversation table under its own key (`pk=WEBHOOK#health`): one
 * scheduled run at a time writes it, so a plain put is enough. An item that does not parse (written
 * by an older version, edited by hand) counts as no state: the next run starts over, replaying at
 * most X's 24 h, which the event-id de-duplication absorbs.
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
  };
}
