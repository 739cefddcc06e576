import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PermanentError, TransientError } from '../core/errors';
import { sqsJson } from './sqs-json';
import { isLoopbackHttp } from '../config';
import { SQS_MAX_MESSAGE_BYTES } from '../core/queue-limits';

/** One message for a FIFO queue: its group keeps order, its dedup id absorbs repeats for 5 minutes. */
export interface FifoEntry {
  body: unknown;
  groupId: string;
  dedupId: string;
}

/** The queue did not accept every message (after retries): the caller answers so that the sender tries again. */
export class EnqueueError extends TransientError {
  constructor(message: string, readonly failedDedupIds: string[]) {
    super(message);
  }
}

/** SendMessageBatch takes at most 10 entries. */
const SQS_MAX_BATCH_ENTRIES = 10;

interface Prepared extends FifoEntry {
  text: string;
  bytes: number;
}

/**
 * Consecutive batches of at most 10 entries and SQS_MAX_MESSAGE_BYTES each (the limit of one
 * message and of a batch's sum; the stack sets it as every queue's MaximumMessageSize), order kept.
 */
function batchesOf(entries: Prepared[]): Prepared[][] {
  const batches: Prepared[][] = [];
  let current: Prepared[] = [];
  let size = 0;
  for (const e of entries) {
    if (current.length === SQS_MAX_BATCH_ENTRIES || (current.length > 0 && size + e.bytes > SQS_MAX_MESSAGE_BYTES)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(e);
    size += e.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Sends entries in order, split into batches by SQS's entry count and size limits, retrying only
 * the entries the queue refused (in their original order). Resolves only when every entry was
 * accepted. A single message larger than SQS takes is a PermanentError (retrying cannot help).
 */
export async function sendFifo(client: SQSClient, queueUrl: string, entries: FifoEntry[], attempts = 3): Promise<void> {
  // A queue on plain http loopback is an emulator (npm start, the tests): fauxqs refuses raw emoji.
  const escapePairs = isLoopbackHttp(queueUrl);
  const prepared = entries.map((e) => {
    const text = sqsJson(e.body, { escapePairs });
    return { ...e, text, bytes: Buffer.byteLength(text, 'utf8') };
  });
  const tooBig = prepared.find((e) => e.bytes > SQS_MAX_MESSAGE_BYTES);
  if (tooBig) throw new PermanentError(`message ${tooBig.dedupId} is ${tooBig.bytes} bytes, over SQS's ${SQS_MAX_MESSAGE_BYTES}`);
  for (const batch of batchesOf(prepared)) {
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map((e, n) => ({
            Id: String(n),
            MessageBody: e.text,
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
