import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createConversationTable } from '../../functions/adapters/conversation-table';

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

export interface FifoQueues {
  queueUrl: string;
  dlqUrl: string;
  dlqArn: string;
}

/** A FIFO queue with its FIFO DLQ, as the stack creates them. */
export async function createFifoQueueWithDlq(
  client: SQSClient,
  prefix: string,
  opts: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<FifoQueues> {
  const base = uniqueName(prefix);
  const dlq = await client.send(
    new CreateQueueCommand({ QueueName: `${base}-dlq.fifo`, Attributes: { FifoQueue: 'true' } }),
  );
  const dlqUrl = dlq.QueueUrl!;
  const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const dlqArn = attrs.Attributes!.QueueArn!;
  const q = await client.send(
    new CreateQueueCommand({
      QueueName: `${base}.fifo`,
      Attributes: {
        FifoQueue: 'true',
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
        VisibilityTimeout: String(opts.visibilityTimeoutSeconds ?? 30),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: opts.maxReceiveCount ?? 5 }),
      },
    }),
  );
  return { queueUrl: q.QueueUrl!, dlqUrl, dlqArn };
}
