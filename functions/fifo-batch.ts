import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface FifoBatchOptions {
  /** Handles one record; a throw reports it as a batch item failure. */
  handleRecord(record: SQSRecord): Promise<void>;
  /** Makes a received message visible again after `seconds`. */
  retryLater(receiptHandle: string, seconds: number): Promise<void>;
  /** False when there is no time left to start a record: it is handed back unattempted. */
  canStart?: () => boolean;
}

/**
 * A FIFO batch as both queue consumers (dispatcher, sender) process it: one record at a time with
 * Powertools' FIFO processor; when a record fails, the later records of its group are not
 * attempted (order per X user) while other groups go on. The unattempted records are handed back
 * at once: FIFO keeps them behind the failed one, so they wait for its back-off instead of a whole
 * visibility timeout more. Returns the batch response and how many were handed back.
 */
export async function processFifoBatch(
  event: SQSEvent,
  context: Context,
  opts: FifoBatchOptions,
): Promise<{ response: SQSBatchResponse; handedBack: number }> {
  const attempted = new Set<string>();
  // A processor per invocation: it holds the batch's state.
  const response = await processPartialResponse(
    event,
    async (record: SQSRecord) => {
      if (opts.canStart && !opts.canStart()) throw new Error('not enough time left in this invocation');
      attempted.add(record.messageId);
      return opts.handleRecord(record);
    },
    new SqsFifoPartialProcessorAsync(),
    { context, skipGroupOnError: true, throwOnFullBatchFailure: false },
  );
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const unattempted = event.Records.filter((r) => !attempted.has(r.messageId) && failed.has(r.messageId));
  await Promise.all(unattempted.map((r) => opts.retryLater(r.receiptHandle, 0).catch(() => undefined)));
  return { response, handedBack: unattempted.length };
}
