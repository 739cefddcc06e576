import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendFifo } from './fifo-send';
import type { OutboundQueue } from '../core/ports';

/**
 * MessageGroupId = X user id (one person's replies in order), MessageDeduplicationId = the
 * reply's source id (a 4biz occurrence id or `solution-<n>`): a poll that runs twice within the
 * 5-minute window enqueues a reply once.
 */
export function sqsOutboundQueue(client: SQSClient, queueUrl: string, attempts = 3): OutboundQueue {
  return {
    send: (messages) =>
      sendFifo(client, queueUrl, messages.map((m) => ({ body: m, groupId: m.xUserId, dedupId: m.sourceId })), attempts),
  };
}
