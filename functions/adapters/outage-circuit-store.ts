import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CircuitRecord, CircuitStore } from '../core/outage-circuit';
import { isConditionFailure, TableLayout } from './conversation-table';

/** A person's last failure is a top-level attribute `fail_<X user id>`: one atomic SET, no map to create first. */
const FAILURE_PREFIX = 'fail_';

function recordOf(item: Record<string, unknown> | undefined): CircuitRecord {
  const failures: Record<string, number> = {};
  for (const [name, value] of Object.entries(item ?? {})) if (name.startsWith(FAILURE_PREFIX)) failures[name.slice(FAILURE_PREFIX.length)] = Number(value);
  const num = (v: unknown) => (v === undefined ? undefined : Number(v));
  return { openedAt: num(item?.openedAt), probeAt: num(item?.probeAt), failures };
}

/**
 * The outage circuit as one item of the conversation table (`CIRCUIT#fourbiz`), so every
 * dispatcher instance sees the same state: conditional updates decide who opens it and who probes.
 */
export function dynamoCircuitStore(doc: DynamoDBDocumentClient, tableName: string): CircuitStore {
  const Key = { [TableLayout.partitionKey]: TableLayout.circuitKey };
  return {
    async read() {
      return recordOf((await doc.send(new GetCommand({ TableName: tableName, Key }))).Item);
    },

    async noteFailure(xUserId, atMs, forgetBeforeMs) {
      const out = await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key,
          UpdateExpression: 'SET #f = if_not_exists(#f, :at)',
          ExpressionAttributeNames: { '#f': `${FAILURE_PREFIX}${xUserId}` },
          ExpressionAttributeValues: { ':at': atMs },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const record = recordOf(out.Attributes);
      const stale = Object.entries(record.failures).filter(([, at]) => at < forgetBeforeMs);
      if (stale.length > 0) {
        // Keeps the item small; a failure noted again meanwhile is only forgotten if it is stale too.
        const names = Object.fromEntries(stale.map(([id], i) => [`#s${i}`, `${FAILURE_PREFIX}${id}`]));
        await doc
          .send(
            new UpdateCommand({
              TableName: tableName,
              Key,
              UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
              ConditionExpression: stale.map((_, i) => `#s${i} < :before`).join(' AND '),
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: { ':before': forgetBeforeMs },
            }),
          )
          .catch((err) => {
            if (!isConditionFailure(err)) throw err;
          });
        for (const [id] of stale) delete record.failures[id];
      }
      return record;
    },

    async open(atMs, firstProbeAtMs) {
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key,
          UpdateExpression: 'SET openedAt = if_not_exists(openedAt, :at), probeAt = if_not_exists(probeAt, :probe)',
          ExpressionAttributeValues: { ':at': atMs, ':probe': firstProbeAtMs },
        }),
      );
    },

    async claimProbe(nowMs, nextProbeAtMs) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key,
            UpdateExpression: 'SET probeAt = :next',
            ConditionExpression: 'attribute_exists(openedAt) AND (attribute_not_exists(probeAt) OR probeAt <= :now)',
            ExpressionAttributeValues: { ':now': nowMs, ':next': nextProbeAtMs },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },

    async close() {
      // The bare key: closed, no failures (a put, so the dispatcher needs no DeleteItem on the table).
      await doc.send(new PutCommand({ TableName: tableName, Item: Key }));
    },
  };
}

/** The deployed dispatcher's circuit store: the tenant's conversation table. */
export function circuitStoreFor(config: { tableName: string }): CircuitStore {
  return dynamoCircuitStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), config.tableName);
}
