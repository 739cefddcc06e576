import type { SQSClient } from '@aws-sdk/client-sqs';
import type { InboundMessage } from '../core/x-events';
import { sendFifo } from './fifo-send';

/** Sends inbound messages to the FIFO queue; resolves only when every message was accepted. */
export interface InboundQueue {
  send(messages: InboundMessage[]): Promise<void>;
}

/**
 * MessageGroupId = X user id (order per conversation, parallel across users),
 * MessageDeduplicationId = DM event id (X's redeliveries within 5 minutes collapse to one).
 */
export function sqsInboundQueue(client: SQSClient, queueUrl: string, attempts = 3): InboundQueue {
  return {
    send: (messages) =>
      sendFifo(client, queueUrl, messages.map((m) => ({ body: m, groupId: m.sender.id, dedupId: m.eventId })), attempts),
  };
}
