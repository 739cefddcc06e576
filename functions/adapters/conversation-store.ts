import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { Conversation } from '../core/conversation';
import { TableLayout, isConditionFailure } from './conversation-table';
import { ConflictError } from '../core/errors';
import type { ConversationStore } from '../core/ports';
import { PROCESSED_EVENT_LIFETIME_SECONDS, processedLifetimeSeconds, type ProcessedKey } from '../core/processed-key';
import { formatZodIssues } from '../core/zod-issues';

export interface DynamoStoreOptions {
  /** Longer than PROCESSED_EVENT_LIFETIME_SECONDS when a source re-reads further back (polling backfill). */
  processedTtlSeconds?: number;
  /** Injected for tests (TTL computation and expiry checks). */
  now?: () => number;
}

const conversationSchema = z.object({
  xUserId: z.string(),
  conversationId: z.string(),
  handle: z.string().optional(),
  name: z.string().optional(),
  status: z.enum(['OPEN', 'CLOSED']),
  openedAt: z.string(),
  lastActivityAt: z.string(),
  closedAt: z.string().optional(),
  closeReason: z.enum(['idle', 'fourbiz']).optional(),
  messagesIn: z.number(),
  messagesOut: z.number(),
  lastDeliveredEventId: z.string().optional(),
  requestNumber: z.string().optional(),
  lastSyncedOccurrenceId: z.string().optional(),
  syncedOccurrenceIds: z.array(z.string()).optional(),
  xchatConversationId: z.string().optional(),
  version: z.number(),
});

function fromItem(item: Record<string, unknown>): Conversation {
  const parsed = conversationSchema.safeParse(item);
  if (!parsed.success) throw new Error(`stored conversation ${String(item.pk)} is malformed: ${formatZodIssues(parsed.error, { limit: 1 })}`);
  const conversation: Conversation = { ...parsed.data };
  for (const key of Object.keys(conversation) as (keyof Conversation)[]) {
    if (conversation[key] === undefined) delete conversation[key];
  }
  return conversation;
}

function toItem(conversation: Conversation): Record<string, unknown> {
  const { partitionKey, openIndex } = TableLayout;
  // Whatever the document client's marshalling options, undefined fields are simply not stored.
  const defined = Object.fromEntries(Object.entries(conversation).filter(([, v]) => v !== undefined));
  return {
    ...defined,
    [partitionKey]: TableLayout.conversationKey(conversation.xUserId),
    // Only open conversations carry the index key, so the sparse index lists just those.
    ...(conversation.status === 'OPEN' ? { [openIndex.partitionKey]: 'OPEN' } : {}),
  };
}

/** The DynamoDB store: conditional puts for optimistic locking, a TTL'd `EVT#` item per delivered event. */
export function dynamoConversationStore(
  doc: DynamoDBDocumentClient,
  tableName: string,
  opts: DynamoStoreOptions = {},
): ConversationStore {
  const ttl = opts.processedTtlSeconds ?? PROCESSED_EVENT_LIFETIME_SECONDS;
  const now = opts.now ?? Date.now;
  const pk = TableLayout.partitionKey;

  /** A put that succeeds only over the version read (or only if the item is new), storing version + 1. */
  const versioned = (conversation: Conversation, expectedVersion: number | undefined): PutCommandInput & { Item: Record<string, unknown> } => {
    const Item = toItem({ ...conversation, version: (expectedVersion ?? 0) + 1 });
    return expectedVersion === undefined
      ? { TableName: tableName, Item, ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': pk } }
      : {
          TableName: tableName,
          Item,
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        };
  };

  const eventItem = (key: ProcessedKey, xUserId: string) => ({
    [pk]: TableLayout.eventKey(key),
    xUserId,
    processedAt: new Date(now()).toISOString(),
    [TableLayout.ttlAttribute]: Math.floor(now() / 1000) + ttl,
  });

  return {
    async get(xUserId) {
      const out = await doc.send(
        new GetCommand({ TableName: tableName, Key: { [pk]: TableLayout.conversationKey(xUserId) }, ConsistentRead: true }),
      );
      return out.Item ? fromItem(out.Item) : undefined;
    },

    async save(conversation, expectedVersion) {
      const put = versioned(conversation, expectedVersion);
      try {
        await doc.send(new PutCommand(put));
      } catch (err) {
        if (isConditionFailure(err)) throw new ConflictError(`conversation of ${conversation.xUserId} changed since version ${expectedVersion ?? 'none'}`);
        throw err;
      }
      return fromItem(put.Item);
    },

    async listOpen() {
      const { openIndex } = TableLayout;
      const items: Conversation[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await doc.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: openIndex.name,
            KeyConditionExpression: '#s = :open',
            ExpressionAttributeNames: { '#s': openIndex.partitionKey },
            ExpressionAttributeValues: { ':open': 'OPEN' },
            ExclusiveStartKey: start,
          }),
        );
        items.push(...(out.Items ?? []).map(fromItem));
        start = out.LastEvaluatedKey;
      } while (start);
      return items;
    },

    async isProcessed(key) {
      const out = await doc.send(
        new GetCommand({ TableName: tableName, Key: { [pk]: TableLayout.eventKey(key) }, ConsistentRead: true }),
      );
      // DynamoDB deletes expired items lazily: an expired record no longer counts.
      const expiresAt = out.Item?.[TableLayout.ttlAttribute] as number | undefined;
      return out.Item !== undefined && (expiresAt === undefined || expiresAt * 1000 > now());
    },

    async markProcessed(key, xUserId) {
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: eventItem(key, xUserId),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': pk },
          }),
        );
      } catch (err) {
        // Already recorded: marking twice is the same fact.
        if (!isConditionFailure(err)) throw err;
      }
    },

    async countAttempt(key) {
      const out = await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { [pk]: TableLayout.attemptKey(key) },
          UpdateExpression: 'ADD #attempts :one SET #ttl = :ttl',
          ExpressionAttributeNames: { '#attempts': 'attempts', '#ttl': TableLayout.ttlAttribute },
          ExpressionAttributeValues: { ':one': 1, ':ttl': Math.floor(now() / 1000) + ttl },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(out.Attributes?.attempts ?? 1);
    },

    async resetAttempts(key) {
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { [pk]: TableLayout.attemptKey(key), attempts: 0, [TableLayout.ttlAttribute]: Math.floor(now() / 1000) + ttl },
        }),
      );
    },

    async saveDelivered(conversation, expectedVersion, key) {
      const put = versioned(conversation, expectedVersion);
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [{ Put: put }, { Put: { TableName: tableName, Item: eventItem(key, conversation.xUserId) } }],
          }),
        );
      } catch (err) {
        if (isConditionFailure(err)) throw new ConflictError(`conversation of ${conversation.xUserId} changed since version ${expectedVersion ?? 'none'}`);
        throw err;
      }
      return fromItem(put.Item);
    },
  };
}

/** The conversation store on the stack's table (TABLE_NAME). */
export function conversationStoreFor(config: { tableName: string; pollBackfillMinutes: number }): ConversationStore {
  return dynamoConversationStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), config.tableName, {
    // Polling's backfill re-reads DMs further back than X's replay window: their records live as long.
    processedTtlSeconds: processedLifetimeSeconds(config.pollBackfillMinutes * 60),
  });
}
