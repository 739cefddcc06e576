/**
 * SQS's limits the bridge is built around (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
 * The stack sets both on every queue: a queue keeps its own MaximumMessageSize, and its retention
 * defaults to 4 days.
 */

/** Message retention: SQS's maximum, 14 days (1,209,600 s), on every queue and DLQ. */
export const QUEUE_RETENTION_DAYS = 14;
export const QUEUE_RETENTION_SECONDS = QUEUE_RETENTION_DAYS * 24 * 3600;

/** The largest message SQS takes, and the largest sum of one SendMessageBatch: 1 MiB. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
