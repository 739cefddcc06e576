import type { SQSEvent, SQSRecord, SQSBatchResponse } from 'aws-lambda';
import type { DeadLetter, QueueControl } from '../../functions/core/ports';

/**
 * A small in-memory model of an SQS FIFO queue and Lambda's SQS event source, as AWS documents
 * them (fauxqs hands out one message per group at a time, so it cannot show what this shows):
 * - a receive returns up to `batchSize` messages, several of the same message group, in order; a
 *   group whose first message is in flight or invisible returns nothing (FIFO order per group);
 * - every returned message counts a receive (ApproximateReceiveCount), tried or not;
 * - a received message stays invisible for the visibility timeout unless ChangeMessageVisibility
 *   changes it; a deleted one is gone;
 * - with a redrive policy (`maxReceiveCount`), a message about to be received more than that many
 *   times is moved to the DLQ; without one (the stack's queues) nothing is;
 * - a message older than the retention period is deleted (`expired`);
 * - the event source deletes the records a batch did not report in batchItemFailures, and hands
 *   batches to the Lambda instances given to run() in turn.
 * Time is virtual (ms from 0, `epochMs` added for SentTimestamp): run() jumps to the next instant
 * a message becomes visible.
 */
interface ModelMessage {
  messageId: string;
  body: string;
  groupId: string;
  sentAt: number;
  receiveCount: number;
  visibleAt: number;
  receiptHandle?: string;
}

export interface FifoModelOptions {
  visibilityTimeoutSeconds: number;
  /** The queue's redrive policy; absent: none (as the stack deploys the queues). */
  maxReceiveCount?: number;
  batchSize?: number;
  retentionSeconds?: number;
  /** Added to the virtual time in SentTimestamp. */
  epochMs?: number;
}

type Handler = (e: SQSEvent) => Promise<SQSBatchResponse>;

export function fifoModel(opts: FifoModelOptions) {
  let now = 0;
  let seq = 0;
  const epochMs = opts.epochMs ?? 0;
  const retentionMs = (opts.retentionSeconds ?? 14 * 24 * 3600) * 1000;
  const messages: ModelMessage[] = [];
  /** What the redrive policy moved (SQS's own DLQ move). */
  const redriven: ModelMessage[] = [];
  /** What the consumer copied to the DLQ itself (its failure policy). */
  const deadLettered: DeadLetter[] = [];
  /** What SQS deleted at the end of the retention period. */
  const expired: ModelMessage[] = [];
  const stats = { receives: 0, invocations: 0 };

  function send(body: unknown, groupId: string): void {
    seq++;
    messages.push({ messageId: `msg-${seq}`, body: JSON.stringify(body), groupId, sentAt: now, receiveCount: 0, visibleAt: now });
  }

  function expire(): void {
    for (const m of [...messages]) {
      if (now - m.sentAt < retentionMs) continue;
      messages.splice(messages.indexOf(m), 1);
      expired.push(m);
    }
  }

  function record(m: ModelMessage): SQSRecord {
    return {
      messageId: m.messageId,
      receiptHandle: m.receiptHandle!,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(epochMs + m.sentAt),
        SenderId: 'model',
        ApproximateFirstReceiveTimestamp: String(epochMs + m.sentAt),
        MessageGroupId: m.groupId,
        MessageDeduplicationId: m.messageId,
        SequenceNumber: m.messageId.slice(4),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:model.fifo',
      awsRegion: 'us-east-1',
    };
  }

  function receive(max: number): SQSRecord[] {
    expire();
    const out: SQSRecord[] = [];
    const blocked = new Set<string>();
    for (const m of [...messages]) {
      if (out.length >= max) break;
      if (blocked.has(m.groupId)) continue;
      if (m.visibleAt > now) {
        blocked.add(m.groupId);
        continue;
      }
      if (opts.maxReceiveCount !== undefined && m.receiveCount >= opts.maxReceiveCount) {
        messages.splice(messages.indexOf(m), 1);
        redriven.push(m);
        continue;
      }
      m.receiveCount++;
      stats.receives++;
      m.visibleAt = now + opts.visibilityTimeoutSeconds * 1000;
      m.receiptHandle = `${m.messageId}/${m.receiveCount}`;
      out.push(record(m));
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

  /**
   * Lambda's event source: poll, invoke the next instance, delete what succeeded; until the queue
   * is empty, `maxInvocations`, or the virtual time reaches `untilMs`.
   */
  async function run(handlers: Handler | Handler[], limits: { maxInvocations?: number; untilMs?: number } = {}): Promise<number> {
    const instances = Array.isArray(handlers) ? handlers : [handlers];
    const maxInvocations = limits.maxInvocations ?? 1_000_000;
    let invocations = 0;
    while (messages.length > 0 && invocations < maxInvocations && (limits.untilMs === undefined || now < limits.untilMs)) {
      const records = receive(opts.batchSize ?? 10);
      if (records.length === 0) {
        // Only a group's first message can become receivable; later ones wait for it.
        const seen = new Set<string>();
        const heads = messages.filter((m) => !seen.has(m.groupId) && seen.add(m.groupId));
        const next = Math.max(now + 1, Math.min(...heads.map((m) => m.visibleAt), ...messages.map((m) => m.sentAt + retentionMs)));
        now = limits.untilMs === undefined ? next : Math.min(next, limits.untilMs);
        continue;
      }
      const response = await instances[invocations % instances.length]({ Records: records });
      invocations++;
      stats.invocations++;
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const r of records) {
        if (failed.has(r.messageId)) continue;
        const m = byHandle(r.receiptHandle);
        if (m) messages.splice(messages.indexOf(m), 1);
      }
    }
    return invocations;
  }

  return { send, run, control, redriven, deadLettered, expired, messages, stats, clock: () => now };
}
