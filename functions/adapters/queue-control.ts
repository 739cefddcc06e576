import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueControl } from '../core/ports';

/** The reason travels as a message attribute so an operator sees it in the DLQ (max 256 chars kept). */
export const FAILURE_REASON_ATTRIBUTE = 'failureReason';

/**
 * The code decides when a message goes to the DLQ (from its own attempts): the redrive policy
 * would count receives, which on FIFO include messages received behind a failing one.
 */
export function sqsQueueControl(client: SQSClient, urls: { queueUrl: string; dlqUrl: string }): QueueControl {
  return {
    async retryIn(receiptHandle, seconds) {
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: urls.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
    },
    async deadLetter(message) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: urls.dlqUrl,
          MessageBody: message.body,
          // The DLQ is FIFO too: keep the user's group; the original message id makes a retried copy a duplicate.
          MessageGroupId: message.groupId ?? 'unknown',
          MessageDeduplicationId: message.messageId,
          MessageAttributes: { [FAILURE_REASON_ATTRIBUTE]: { DataType: 'String', StringValue: message.reason.slice(0, 256) || 'unknown' } },
        }),
      );
    },
  };
}
