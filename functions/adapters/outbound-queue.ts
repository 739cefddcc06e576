import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { OutboundMessage } from '../core/outbound-message';
import { sendFifo } from './fifo-send';

/** The outbound FIFO queue: the poller sends replies to it, the sender delays the ones X throttles. */
export interface OutboundQueue {
  /** Resolves only when every message was accepted, in order. */
  send(messages: OutboundMessage[]): Promise<void>;
  /** Keeps a received message invisible for `seconds` more (e.g. until X's rate-limit reset). */
  delay(receiptHandle: string, seconds: number): Promise<void>;
}

/**
 * MessageGroupId = X user id (one person's replies in order), MessageDeduplicationId = the
 * reply's source id (a 4biz occurrence id or `solution-<n>`): a poll that runs twice within the
 * 5-minute window enqueues a reply once.
 */
export function sqsOutboundQueue(client: SQSClient, queueUrl: string, attempts = 3): OutboundQueue {
  return {
    send: (messages) =>
      sendFifo(client, queueUrl, messages.map((m) => ({ body: m, groupId: m.xUserId, dedupId: m.sourceId })), attempts),
    async delay(receiptHandle, seconds) {
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
    },
  };
}
