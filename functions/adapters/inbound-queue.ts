import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendFifo } from './fifo-send';
import type { InboundQueue } from '../core/ports';


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
