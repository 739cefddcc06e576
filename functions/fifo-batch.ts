import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { BridgeError } from './core/errors';
import type { FailureDecision } from './core/failure-policy';
import type { QueueControl } from './core/ports';

export interface FifoBatchOptions {
  /** Handles one record; a throw is handed to onFailure. */
  handleRecord(record: SQSRecord): Promise<void>;
  /**
   * The failure policy for a record that threw: retry in N seconds, or dead-letter now. A throw
   * from here (e.g. the table is down) leaves the record to the queue: it returns after the
   * visibility timeout (the queue has no redrive policy: it waits, as in an outage).
   */
  onFailure(record: SQSRecord, error: unknown): Promise<FailureDecision>;
  queue: QueueControl;
  /** False when there is no time left to start a record: it is handed back unattempted. */
  canStart?: () => boolean;
  /** Told when the queue refused a visibility change (the message then returns after the visibility timeout). */
  onQueueError?: (what: string, error: unknown) => void;
}

class NotStarted extends BridgeError {}

/**
 * A FIFO batch as both queue consumers (dispatcher, sender) process it: one record at a time with
 * Powertools' FIFO processor; when a record fails, the later records of its group are not
 * attempted (order per X user) while other groups go on. A failed record is retried after its
 * back-off or moved to the DLQ, as onFailure decides; the unattempted records are handed back at
 * once: FIFO keeps them behind the failed one, so they wait for its back-off instead of a whole
 * visibility timeout more. Returns the batch response and how many were handed back.
 */
export async function processFifoBatch(
  event: SQSEvent,
  context: Context,
  opts: FifoBatchOptions,
): Promise<{ response: SQSBatchResponse; handedBack: number }> {
  const attempted = new Set<string>();
  const quietly = (what: string, p: Promise<void>) => p.catch((e) => opts.onQueueError?.(what, e));
  const response = await processPartialResponse(
    event,
    async (record: SQSRecord) => {
      if (opts.canStart && !opts.canStart()) throw new NotStarted('not enough time left in this invocation');
      attempted.add(record.messageId);
      try {
        await opts.handleRecord(record);
      } catch (err) {
        const decision = await opts.onFailure(record, err);
        if (decision.kind === 'dead-letter') {
          // Copied first, acknowledged after: a crash in between leaves a copy, never a loss.
          await opts.queue.deadLetter({ messageId: record.messageId, body: record.body, groupId: record.attributes.MessageGroupId, reason: decision.reason });
          return;
        }
        await quietly('back-off', opts.queue.retryIn(record.receiptHandle, decision.inSeconds));
        throw err;
      }
    },
    // A processor per invocation: it holds the batch's state.
    new SqsFifoPartialProcessorAsync(),
    { context, skipGroupOnError: true, throwOnFullBatchFailure: false },
  );
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const unattempted = event.Records.filter((r) => !attempted.has(r.messageId) && failed.has(r.messageId));
  await Promise.all(unattempted.map((r) => quietly('hand-back', opts.queue.retryIn(r.receiptHandle, 0))));
  return { response, handedBack: unattempted.length };
}

/** When SQS accepted the record (its SentTimestamp), or undefined when the record does not say. */
export function queuedAt(record: SQSRecord): number | undefined {
  const sent = Number(record.attributes.SentTimestamp);
  return Number.isFinite(sent) && sent > 0 ? sent : undefined;
}
