import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LeaseStore } from '../core/lease';
import { TableLayout, isConditionFailure } from './conversation-table';


/**
 * Leases as `LEASE#<name>` items of the conversation table: a conditional put takes a free or
 * expired lease, a conditional delete gives back only one's own. The TTL attribute lets DynamoDB
 * clean up leases whose holder died; expiry is checked by the condition, not left to the TTL sweep.
 */
export function dynamoLeaseStore(doc: DynamoDBDocumentClient, tableName: string, now: () => number = Date.now): LeaseStore {
  const { partitionKey: pk, ttlAttribute } = TableLayout;
  return {
    async tryAcquire(name, holder, ttlSeconds) {
      const nowSeconds = Math.floor(now() / 1000);
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: { [pk]: TableLayout.leaseKey(name), holder, [ttlAttribute]: nowSeconds + ttlSeconds },
            ConditionExpression: 'attribute_not_exists(#pk) OR #expires <= :now OR #holder = :holder',
            ExpressionAttributeNames: { '#pk': pk, '#expires': ttlAttribute, '#holder': 'holder' },
            ExpressionAttributeValues: { ':now': nowSeconds, ':holder': holder },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },

    async release(name, holder) {
      try {
        await doc.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { [pk]: TableLayout.leaseKey(name) },
            ConditionExpression: '#holder = :holder',
            ExpressionAttributeNames: { '#holder': 'holder' },
            ExpressionAttributeValues: { ':holder': holder },
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    },
  };
}

/** The leases on the stack's table (TABLE_NAME). */
export function leaseStoreFor(config: { tableName: string }): LeaseStore {
  return dynamoLeaseStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), config.tableName);
}
