import { DeleteCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PermanentError } from '../core/errors';
import type { InboundParking } from '../core/ports';
import { processedKey } from '../core/processed-key';
import { QUEUE_RETENTION_SECONDS } from '../core/queue-limits';
import { inboundQueueBody } from '../core/x-events';
import { isConditionFailure, TableLayout } from './conversation-table';

/**
 * DynamoDB's item limit is 400 KB (names and values); the body may take all of it but a little
 * room for the key and the other attributes. A DM's body is far smaller (5,000 emoji: ~126 KB).
 */
const MAX_PARKED_BODY_BYTES = 400 * 1024 - 4 * 1024;

const PARKED_PREFIX = TableLayout.parkedKey(processedKey.inbound(''));

/** A parked inbound message: the queue body and FIFO ids the webhook would have sent. */
export interface ParkedInbound {
  pk: string;
  eventId: string;
  /** The message group (the sender's X user id). */
  groupId: string;
  dedupId: string;
  /** The DM's created_timestamp (ms, as X writes it): the order a person's DMs are requeued in. */
  createdTimestamp: string;
  /** When the webhook parked it (ms). */
  parkedAt: number;
  /** The queue body, JSON. */
  body: string;
}

/**
 * Each message one item (`PARKED#IN#<event id>`), put only if absent, so X's retries of a delivery
 * keep one copy. It expires with the queue's retention: a message kept longer would also have
 * expired from the queue.
 */
export function dynamoInboundParking(doc: DynamoDBDocumentClient, tableName: string, clock: () => number = Date.now): InboundParking {
  return {
    async park(messages) {
      const items = messages.map((m): ParkedInbound => {
        const body = JSON.stringify(inboundQueueBody(m));
        const bytes = Buffer.byteLength(body, 'utf8');
        if (bytes > MAX_PARKED_BODY_BYTES) throw new PermanentError(`message ${m.eventId} is ${bytes} bytes, over what one table item holds`);
        const ids = { eventId: m.eventId, groupId: m.sender.id, dedupId: m.eventId, createdTimestamp: m.createdTimestamp };
        return { pk: TableLayout.parkedKey(processedKey.inbound(m.eventId)), ...ids, parkedAt: clock(), body };
      });
      let parked = 0;
      for (const item of items) {
        try {
          await doc.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...item, [TableLayout.ttlAttribute]: Math.floor(item.parkedAt / 1000) + QUEUE_RETENTION_SECONDS },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
          parked++;
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
        }
      }
      return parked;
    },
  };
}

/**
 * Every parked inbound message of the table, oldest DM first (a person's in their order): a scan
 * in pages, for the operator's command (parked messages are few; the table holds no index for them).
 */
export async function listParkedInbound(doc: DynamoDBDocumentClient, tableName: string): Promise<ParkedInbound[]> {
  const parked: ParkedInbound[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'begins_with(pk, :parked)',
        ExpressionAttributeValues: { ':parked': PARKED_PREFIX },
        ExclusiveStartKey: start,
        Limit: 500,
      }),
    );
    parked.push(...((page.Items ?? []) as ParkedInbound[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return parked.sort((a, b) => Number(a.createdTimestamp) - Number(b.createdTimestamp) || a.eventId.localeCompare(b.eventId));
}

/** Removes a parked message once it is on the queue. */
export async function deleteParkedInbound(doc: DynamoDBDocumentClient, tableName: string, item: ParkedInbound): Promise<void> {
  await doc.send(new DeleteCommand({ TableName: tableName, Key: { pk: item.pk } }));
}
