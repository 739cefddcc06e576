import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendFifo } from './fifo-send';
import type { ChatQueue, InboundQueue } from '../core/ports';
import { inboundQueueBody } from '../core/x-events';

/**
 * MessageGroupId = X user id (order per person, parallel across people; a person's DMs and XChat
 * messages share it), MessageDeduplicationId = DM event id (X's redeliveries within 5 minutes
 * collapse to one); for an XChat message, X's delivery id (`event_uuid`).
 * A DM's body carries its text once (inboundQueueBody); an XChat message's body is still encrypted.
 */
export function sqsInboundQueue(client: SQSClient, queueUrl: string, attempts = 3): InboundQueue & ChatQueue {
  return {
    send: (messages) =>
      sendFifo(client, queueUrl, messages.map((m) => ({ body: inboundQueueBody(m), groupId: m.sender.id, dedupId: m.eventId })), attempts),
    sendChat: (m) => sendFifo(client, queueUrl, [{ body: m, groupId: m.xchat.senderId, dedupId: `xchat-${m.xchat.eventUuid}` }], attempts),
  };
}
