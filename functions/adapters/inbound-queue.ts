import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendFifo } from './fifo-send';
import type { InboundQueue } from '../core/ports';
import { inboundQueueBody } from '../core/x-events';


/**
 * MessageGroupId = X user id (order per conversation, parallel across users),
 * MessageDeduplicationId = DM event id (X's redeliveries within 5 minutes collapse to one).
 * The body carries the DM's text once (inboundQueueBody).
 */
export function sqsInboundQueue(client: SQSClient, queueUrl: string, attempts = 3): InboundQueue {
  return {
    send: (messages) =>
      sendFifo(client, queueUrl, messages.map((m) => ({ body: inboundQueueBody(m), groupId: m.sender.id, dedupId: m.eventId })), attempts),
  };
}
