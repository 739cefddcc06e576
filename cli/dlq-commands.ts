import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { resourceNames } from '../infra/resource-names';

/**
 * The DLQ operator commands behind `npm run dlq`: count what is waiting, and move it back to the
 * queue it came from, by hand, group and order kept.
 */
export type QueueKind = 'inbound' | 'outbound';

/**
 * The order a redrive gives, said exactly (issue 8 §7): moved messages go to the back of their
 * person's message group. A person's DMs that arrived (and were delivered) after one went to the
 * DLQ are therefore ahead of it; the moved ones keep the DLQ's order among themselves.
 */
export const REDRIVE_ORDER_NOTE =
  'Order: moved messages join the back of each person\'s queue. They keep their order among themselves, ' +
  'but a person\'s newer messages, delivered while these waited in the DLQ, stay ahead of them ' +
  '(4biz sees the original created_timestamp). Messages already delivered are skipped, not sent twice.';

export interface QueueRef {
  name: string;
  url: string;
  arn: string;
}

export interface QueuePair {
  queue: QueueRef;
  dlq: QueueRef;
}

export interface QueueCounts {
  visible: number;
  inFlight: number;
}

export type Print = (line: string) => void;

async function findQueue(sqs: SQSClient, name: string): Promise<QueueRef> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`queue ${name} not found`);
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const arn = attrs.Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${name} has no ARN`);
  return { name, url: QueueUrl, arn };
}

/** The tenant's queue of that kind and its DLQ, by the names the stack gives them. */
export async function tenantQueues(sqs: SQSClient, tenant: string, kind: QueueKind): Promise<QueuePair> {
  const names = resourceNames(tenant);
  const [queue, dlq] = kind === 'inbound' ? [names.inboundQueue, names.inboundDlq] : [names.outboundQueue, names.outboundDlq];
  return { queue: await findQueue(sqs, queue), dlq: await findQueue(sqs, dlq) };
}

export async function countMessages(sqs: SQSClient, url: string): Promise<QueueCounts> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

export interface RedriveResult {
  method: 'receive-send-delete';
  moved: number;
  status: string;
}

/**
 * Moves every message from the DLQ back to its source queue and reports how. By hand (receive,
 * send, delete; each person's order kept), not with SQS's message-move task: that task starts
 * only from a queue that is some queue's redrive target, and the bridge's queues have no redrive
 * policy (docs/deploy.md, "When 4biz is down").
 */
export async function redrive(sqs: SQSClient, pair: QueuePair, print: Print): Promise<RedriveResult> {
  const moved = await moveMessages(sqs, pair.dlq.url, pair.queue.url, print);
  return { method: 'receive-send-delete', moved, status: 'COMPLETED' };
}

/** The next batch of a queue's messages (up to ten, with their group and attributes), held for a minute; none when it is empty. */
async function receiveBatch(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 60,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages ?? [];
}

/**
 * The by-hand move: receive a batch, send it to the destination (same group; a dedup id derived
 * from the DLQ message id, so a copy sent twice after a crash collapses), then delete it from the
 * DLQ. A FIFO DLQ hands out one group's messages in order, so order per group is kept.
 */
async function moveMessages(sqs: SQSClient, fromUrl: string, toUrl: string, print: Print): Promise<number> {
  let moved = 0;
  for (;;) {
    const Messages = await receiveBatch(sqs, fromUrl);
    if (Messages.length === 0) break;
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: toUrl,
        Entries: Messages.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body ?? '',
          MessageAttributes: m.MessageAttributes,
          MessageGroupId: m.Attributes?.MessageGroupId,
          MessageDeduplicationId: m.Attributes?.MessageGroupId ? `redrive-${m.MessageId}` : undefined,
        })),
      }),
    );
    const failed = new Set((out.Failed ?? []).map((f) => f.Id));
    const sent = Messages.filter((_, i) => !failed.has(String(i)));
    if (sent.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: fromUrl, Entries: sent.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
    }
    moved += sent.length;
    print(`${moved} moved`);
    // Unsent ones stay in the DLQ (they reappear after their visibility timeout): report, do not spin.
    if (failed.size > 0) throw new Error(`${failed.size} message(s) could not be sent back; they stay in the DLQ`);
  }
  return moved;
}

/** One exported message per line of an export file (JSON Lines): what it takes to send it again. */
interface ExportedMessage {
  messageId: string;
  groupId?: string;
  body: string;
  attributes?: Record<string, { DataType: string; StringValue?: string }>;
  /** The queue it was taken from. */
  queue: string;
}

/**
 * Moves every message of a queue into a local file, to keep it across a `cdk destroy`: each batch
 * is written and flushed to disk before it is deleted from the queue, so a crash loses nothing
 * (at worst a batch is in the file and still in the queue). A FIFO queue hands out a group's next
 * messages only once the earlier ones are deleted, so a copy that leaves them in place cannot
 * read the whole queue. The file must not exist yet (holds DM texts: mode 0600).
 */
export async function exportMessages(sqs: SQSClient, from: QueueRef, file: string, print: Print): Promise<number> {
  const fd = openSync(file, 'wx', 0o600);
  let exported = 0;
  try {
    for (;;) {
      const Messages = await receiveBatch(sqs, from.url);
      if (Messages.length === 0) break;
      const lines = Messages.map((m) => {
        const line: ExportedMessage = {
          messageId: m.MessageId ?? '',
          groupId: m.Attributes?.MessageGroupId,
          body: m.Body ?? '',
          attributes: m.MessageAttributes as ExportedMessage['attributes'],
          queue: from.name,
        };
        return `${JSON.stringify(line)}\n`;
      });
      writeSync(fd, lines.join(''));
      fsyncSync(fd);
      const out = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: from.url, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
      exported += Messages.length;
      print(`${exported} exported`);
      // Written but not deleted: they would come back and be written twice; stop and say so.
      if (out.Failed?.length) throw new Error(`${out.Failed.length} exported message(s) could not be deleted from ${from.name}; they are in ${file} and still in the queue`);
    }
  } finally {
    closeSync(fd);
  }
  return exported;
}
