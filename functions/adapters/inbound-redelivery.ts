import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** The dispatcher's say over when an inbound message comes back, or that it never will. */
export interface InboundRedelivery {
  /** The message becomes visible again after `seconds` (back-off between delivery attempts). */
  retryLater(receiptHandle: string, seconds: number): Promise<void>;
  /** Copies the message to the DLQ with the reason; the caller then acknowledges the original. */
  deadLetter(message: DeadLetter): Promise<void>;
}

export interface DeadLetter {
  messageId: string;
  body: string;
  groupId?: string;
  reason: string;
}

/** The reason travels as a message attribute so an operator sees it in the DLQ (max 256 chars kept). */
export const FAILURE_REASON_ATTRIBUTE = 'failureReason';

/**
 * A message that can never be delivered goes to the DLQ at once: the redrive policy would only
 * move it after maxReceiveCount receives, each waiting for a visibility timeout.
 */
export function sqsInboundRedelivery(client: SQSClient, urls: { queueUrl: string; dlqUrl: string }): InboundRedelivery {
  return {
    async retryLater(receiptHandle, seconds) {
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
