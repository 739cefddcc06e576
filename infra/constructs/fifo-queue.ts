import { Duration } from 'aws-cdk-lib';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { QUEUE_RETENTION_DAYS, SQS_MAX_MESSAGE_BYTES } from '../../functions/core/queue-limits';

export interface FifoQueueProps {
  queueName: string;
  dlqName: string;
  visibilityTimeoutSeconds: number;
}

/**
 * A FIFO queue and its FIFO dead-letter queue. High-throughput mode: de-duplication and
 * throughput are per message group (one group per X user), so users do not queue behind each other.
 * No redrive policy: SQS counts a receive for every message handed out behind a failing one of
 * its group (and AWS advises against a DLQ on a FIFO queue whose order matters), so only the
 * consumer's failure policy moves a message to the DLQ, after that message's own attempts.
 */
export class FifoQueue extends Construct {
  readonly queue: Queue;
  readonly dlq: Queue;

  constructor(scope: Construct, id: string, props: FifoQueueProps) {
    super(scope, id);
    const common: QueueProps = {
      fifo: true,
      contentBasedDeduplication: false,
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The most SQS allows (SQS's default is 4 days): a DM held back by an outage outlives the
      // failure policy's retries (the tenant schema keeps them inside), never expires untraced.
      retentionPeriod: Duration.days(QUEUE_RETENTION_DAYS),
      // SQS's maximum (1 MiB, raised from 256 KiB in 2025; a queue keeps its own setting): any DM X can send fits.
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
    };
    this.dlq = new Queue(this, 'Dlq', {
      ...common,
      queueName: props.dlqName,
    });
    this.queue = new Queue(this, 'Queue', {
      ...common,
      queueName: props.queueName,
      visibilityTimeout: Duration.seconds(props.visibilityTimeoutSeconds),
    });
    NagSuppressions.addResourceSuppressions(this.queue, [
      {
        id: 'AwsSolutions-SQS3',
        reason: 'Its DLQ is written by the consumer after a message\'s own attempts; a redrive policy would count receives of FIFO messages waiting behind a failing one and dead-letter them untried.',
      },
    ]);
    NagSuppressions.addResourceSuppressions(this.dlq, [
      { id: 'AwsSolutions-SQS3', reason: 'It is the DLQ: its queue\'s consumer moves messages here itself (no redrive policy, see the queue).' },
    ]);
  }
}
