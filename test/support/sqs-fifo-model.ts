import type { SQSEvent, SQSRecord, SQSBatchResponse } from 'aws-lambda';
import type { DeadLetter, QueueControl } from '../../functions/core/ports';

/**
 * A small in-memory model of an SQS FIFO queue and Lambda's SQS event source, as AWS documents
 * them (fauxqs hands out one message per group at a time, so it cannot show what this shows):
 * - a receive returns up to 10 messages, several of the same message group, in order; a group
 *   whose first message is in flight or invisible returns nothing (FIFO order per group);
 * - every returned message counts a receive (ApproximateReceiveCount), tried or not;
 * - a received message stays invisible for the visibility timeout unless ChangeMessageVisibility
 *   changes it; a deleted one is gone;
 * - a message about to be received more than maxReceiveCount times is moved to the DLQ (redrive);
 * - the event source deletes the records a batch did not report in batchItemFailures.
 * Time is virtual: run() jumps to the next instant a message becomes visible.
 */
interface ModelMessage {
  messageId: string;
  body: string;
  groupId: string;
  receiveCount: number;
  visibleAt: number;
  receiptHandle?: string;
}

export interface FifoModelOptions {
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  batchSize?: number;
}

export function fifoModel(opts: FifoModelOptions) {
  let now = 0;
  let seq = 0;
  const messages: ModelMessage[] = [];
  /** What the redrive policy moved (SQS's own DLQ move). */
  const redriven: ModelMessage[] = [];
  /** What the consumer copied to the DLQ itself (its failure policy). */
  const deadLettered: DeadLetter[] = [];

  function send(body: unknown, groupId: string): void {
    seq++;
    messages.push({ messageId: `msg-${seq}`, body: JSON.stringify(body), groupId, receiveCount: 0, visibleAt: 0 });
  }

  function receive(max: number): SQSRecord[] {
    const out: SQSRecord[] = [];
    const blocked = new Set<string>();
    for (const m of [...messages]) {
      if (out.length >= max) break;
      if (blocked.has(m.groupId)) continue;
      if (m.visibleAt > now) {
        blocked.add(m.groupId);
        continue;
      }
      if (m.receiveCount >= opts.maxReceiveCount) {
        messages.splice(messages.indexOf(m), 1);
        redriven.push(m);
        continue;
      }
      m.receiveCount++;
      m.visibleAt = now + opts.visibilityTimeoutSeconds * 1000;
      m.receiptHandle = `${m.messageId}/${m.receiveCount}`;
      out.push({
        messageId: m.messageId,
        receiptHandle: m.receiptHandle,
        body: m.body,
        attributes: {
          ApproximateReceiveCount: String(m.receiveCount),
          SentTimestamp: '0',
          SenderId: 'model',
          ApproximateFirstReceiveTimestamp: '0',
          MessageGroupId: m.groupId,
          MessageDeduplicationId: m.messageId,
          SequenceNumber: m.messageId.slice(4),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:model.fifo',
        awsRegion: 'us-east-1',
      });
    }
    return out;
  }

  const byHandle = (receiptHandle: string) => messages.find((m) => m.receiptHandle === receiptHandle);

  const control: QueueControl = {
    async retryIn(receiptHandle, seconds) {
      const m = byHandle(receiptHandle);
      if (!m) throw new Error('ReceiptHandleIsInvalid');
      m.visibleAt = now + seconds * 1000;
    },
    async deadLetter(d) {
      deadLettered.push(d);
    },
  };

  /** Lambda's event source: poll, invoke, delete what succeeded; until the queue is empty or `maxInvocations`. */
  async function run(handler: (e: SQSEvent) => Promise<SQSBatchResponse>, maxInvocations = 1000): Promise<number> {
    let invocations = 0;
    while (messages.length > 0 && invocations < maxInvocations) {
      const records = receive(opts.batchSize ?? 10);
      if (records.length === 0) {
        now = Math.max(now + 1, Math.min(...messages.map((m) => m.visibleAt)));
        continue;
      }
      invocations++;
      const response = await handler({ Records: records });
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const r of records) {
        if (failed.has(r.messageId)) continue;
        const m = byHandle(r.receiptHandle);
        if (m) messages.splice(messages.indexOf(m), 1);
      }
    }
    return invocations;
  }

  return { send, run, control, redriven, deadLettered, messages, clock: () => now };
}
