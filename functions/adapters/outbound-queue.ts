import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { OutboundMessage } from '../core/outbound-message';
import { sqsJson } from './sqs-json';

/** The outbound FIFO queue: the poller sends replies to it, the sender delays the ones X throttles. */
export interface OutboundQueue {
  /** Resolves only when every message was accepted, in order. */
  send(messages: OutboundMessage[]): Promise<void>;
  /** Keeps a received message invisible for `seconds` more (e.g. until X's rate-limit reset). */
  delay(receiptHandle: string, seconds: number): Promise<void>;
}

export class OutboundEnqueueError extends Error {
  constructor(message: string, readonly failedSourceIds: string[]) {
    super(message);
    this.name = 'OutboundEnqueueError';
  }
}

const BATCH = 10;

/**
 * MessageGroupId = X user id (one person's replies in order), MessageDeduplicationId = the
 * reply's source id (a 4biz occurrence id or `solution-<n>`): a poll that runs twice within the
 * 5-minute window enqueues a reply once.
 */
export function sqsOutboundQueue(client: SQSClient, queueUrl: string, attempts = 3): OutboundQueue {
  return {
    async send(messages) {
      for (let i = 0; i < messages.length; i += BATCH) {
        let pending = messages.slice(i, i + BATCH);
        for (let attempt = 1; pending.length > 0; attempt++) {
          const out = await client.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: pending.map((m, n) => ({
                Id: String(n),
                MessageBody: sqsJson(m),
                MessageGroupId: m.xUserId,
                MessageDeduplicationId: m.sourceId,
              })),
            }),
          );
          const failed = new Set((out.Failed ?? []).map((f) => Number(f.Id)));
          pending = pending.filter((_, n) => failed.has(n));
          if (pending.length > 0 && attempt >= attempts) {
            throw new OutboundEnqueueError(`outbound queue rejected ${pending.length} message(s)`, pending.map((m) => m.sourceId));
          }
        }
      }
    },
    async delay(receiptHandle, seconds) {
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
    },
  };
}
