import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sqsJson } from './sqs-json';

/** One message for a FIFO queue: its group keeps order, its dedup id absorbs repeats for 5 minutes. */
export interface FifoEntry {
  body: unknown;
  groupId: string;
  dedupId: string;
}

export class EnqueueError extends Error {
  constructor(message: string, readonly failedDedupIds: string[]) {
    super(message);
    this.name = 'EnqueueError';
  }
}

const BATCH = 10;

/**
 * Sends entries in order, ten per SendMessageBatch, retrying only the entries the queue refused
 * (in their original order). Resolves only when every entry was accepted.
 */
export async function sendFifo(client: SQSClient, queueUrl: string, entries: FifoEntry[], attempts = 3): Promise<void> {
  for (let i = 0; i < entries.length; i += BATCH) {
    let pending = entries.slice(i, i + BATCH);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map((e, n) => ({
            Id: String(n),
            MessageBody: sqsJson(e.body),
            MessageGroupId: e.groupId,
            MessageDeduplicationId: e.dedupId,
          })),
        }),
      );
      const failed = new Set((out.Failed ?? []).map((f) => Number(f.Id)));
      pending = pending.filter((_, n) => failed.has(n));
      if (pending.length > 0 && attempt >= attempts) {
        throw new EnqueueError(`queue rejected ${pending.length} message(s) after ${attempts} attempts`, pending.map((e) => e.dedupId));
      }
    }
  }
}
