import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createConversationTable } from '../../functions/adapters/conversation-table';
import { createFifoQueuePair, type FifoQueuePair } from '../../local/resources';

/** Clients pointed at the emulators started by global-setup, and per-test resources. */
function endpoint(name: 'TEST_DYNAMODB_ENDPOINT' | 'TEST_SQS_ENDPOINT'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this test in the integration project (global-setup)`);
  return value;
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export function testSqsClient(): SQSClient {
  return new SQSClient({ endpoint: endpoint('TEST_SQS_ENDPOINT'), region: 'us-east-1', credentials });
}

export function testDynamoClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: endpoint('TEST_DYNAMODB_ENDPOINT'), region: 'us-east-1', credentials });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTestTable(client: DynamoDBClient, prefix = 'conversations'): Promise<string> {
  const name = uniqueName(prefix);
  await createConversationTable(client, name);
  return name;
}

/** A FIFO queue with its FIFO DLQ, as the stack creates them, uniquely named after `prefix`. */
export async function createTestQueuePair(
  client: SQSClient,
  prefix: string,
  opts: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<FifoQueuePair> {
  const base = uniqueName(prefix);
  return createFifoQueuePair(
    client,
    { queue: `${base}.fifo`, dlq: `${base}-dlq.fifo` },
    { maxReceiveCount: opts.maxReceiveCount, visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds ?? 30 },
  );
}
