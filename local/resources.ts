import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResourceInUseException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { TenantSecret } from '../functions/config';
import { createConversationTable } from '../functions/adapters/conversation-table';
import { QUEUE_RETENTION_SECONDS, SQS_MAX_MESSAGE_BYTES } from '../functions/core/queue-limits';

/**
 * A tenant's resources on the emulators, shaped as the stack creates them: the conversation table,
 * FIFO queues with their FIFO DLQs, and the tenant secret as a file (Secrets Manager's stand-in).
 * Used by `npm start`, the integration tests and the benchmarks.
 */

export interface FifoQueuePair {
  queueUrl: string;
  dlqUrl: string;
  dlqArn: string;
}

/**
 * A FIFO queue and its FIFO DLQ, with the stack's attributes (per-group de-duplication and
 * throughput, retention, size; no redrive policy). `maxReceiveCount` adds one, for a test of the
 * local event source against a queue that has it.
 */
export async function createFifoQueuePair(
  sqs: SQSClient,
  names: { queue: string; dlq: string },
  opts: { visibilityTimeoutSeconds: number; maxReceiveCount?: number },
): Promise<FifoQueuePair> {
  // As the stack: 14 days' retention and 1 MiB messages on both (SQS's defaults are 4 days and, on older queues, 256 KiB).
  const limits = { MessageRetentionPeriod: String(QUEUE_RETENTION_SECONDS), MaximumMessageSize: String(SQS_MAX_MESSAGE_BYTES) };
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: names.dlq, Attributes: { FifoQueue: 'true', ...limits } }));
  const dlqUrl = dlq.QueueUrl!;
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const dlqArn = attrs.Attributes!.QueueArn!;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: names.queue,
      Attributes: {
        FifoQueue: 'true',
        ...limits,
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
        VisibilityTimeout: String(opts.visibilityTimeoutSeconds),
        ...(opts.maxReceiveCount ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: opts.maxReceiveCount }) } : {}),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl!, dlqUrl, dlqArn };
}

/** The conversation table, unless it exists already (a bridge restarted on the same emulators). */
export async function ensureConversationTable(dynamo: DynamoDBClient, table: string): Promise<void> {
  try {
    await createConversationTable(dynamo, table);
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
}

/** The tenant secret as a file only its owner may read (git-ignored under .local/ by default). */
export function writeSecretsFile(path: string, secret: TenantSecret): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, `${JSON.stringify(secret, null, 2)}\n`, { mode: 0o600 });
  // writeFileSync's mode applies only to a new file: an existing one is narrowed too.
  chmodSync(path, 0o600);
}
