import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { InboundMessage } from '../core/x-events';
import { sqsJson } from './sqs-json';

/** Sends inbound messages to the FIFO queue; resolves only when every message was accepted. */
export interface InboundQueue {
  send(messages: InboundMessage[]): Promise<void>;
}

export class EnqueueError extends Error {
  constructor(message: string, readonly failedEventIds: string[]) {
    super(message);
    this.name = 'EnqueueError';
  }
}

const BATCH = 10;

/**
 * FIFO semantics: MessageGroupId = X user id (order per conversation, parallel across users),
 * MessageDeduplicationId = DM event id (X's redeliveries within 5 minutes collapse to one).
 * Batches are sent in order and failed entries retried, so a user's messages keep their order.
 */
export function sqsInboundQueue(client: SQSClient, queueUrl: string, attempts = 3): InboundQueue {
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
                MessageGroupId: m.sender.id,
                MessageDeduplicationId: m.eventId,
              })),
            }),
          );
          const failed = new Set((out.Failed ?? []).map((f) => Number(f.Id)));
          // Retry only the failed entries, in their original order.
          pending = pending.filter((_, n) => failed.has(n));
          if (pending.length > 0 && attempt >= attempts) {
            throw new EnqueueError(`queue rejected ${pending.length} message(s) after ${attempts} attempts`, pending.map((m) => m.eventId));
          }
        }
      }
    },
  };
}
