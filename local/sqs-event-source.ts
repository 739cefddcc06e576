import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-context';

/**
 * What Lambda's SQS event source mapping does, for `npm start`, the integration tests and the
 * benchmarks: receive a batch, hand it to the handler as a real SQSEvent, delete the records it did
 * not report in `batchItemFailures`, and leave the others to come back after their visibility
 * timeout (and reach the DLQ through the queue's redrive policy). A thrown error, or a failure
 * report naming an unknown record, fails the whole batch, as Lambda does.
 */
type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface SqsEventSourceOptions {
  client: SQSClient;
  queueUrl: string;
  /** Read from the queue when not given. */
  queueArn?: string;
  handler: SqsBatchHandler;
  /** Records per invocation, 1–10. */
  batchSize?: number;
  /** Long-poll wait per receive, 0–20 s; stop() waits at most this long for an empty receive. */
  waitTimeSeconds?: number;
  /** Parallel pollers (Lambda runs several); FIFO order per group still holds, SQS sees to it. */
  concurrency?: number;
  /** Called when a receive, an invocation or a delete fails; the poller carries on. */
  onError?: (err: unknown) => void;
  functionName?: string;
  awsRegion?: string;
}

export interface SqsEventSource {
  start(): void;
  /** Stops polling and waits for the in-flight batches to finish. */
  stop(): Promise<void>;
  /** One receive → invoke → delete cycle; resolves to the number of records received. */
  drainOnce(): Promise<number>;
}

function toMessageAttributes(message: Message): SQSMessageAttributes {
  return Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, a]) => [
      name,
      {
        stringValue: a.StringValue,
        binaryValue: a.BinaryValue ? Buffer.from(a.BinaryValue).toString('base64') : undefined,
        stringListValues: a.StringListValues ?? [],
        binaryListValues: (a.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
        dataType: a.DataType ?? 'String',
      },
    ]),
  );
}

function toSqsRecord(message: Message, eventSourceARN: string, awsRegion: string): SQSRecord {
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.SequenceNumber ? { SequenceNumber: a.SequenceNumber } : {}),
      ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
      ...(a.AWSTraceHeader ? { AWSTraceHeader: a.AWSTraceHeader } : {}),
    },
    messageAttributes: toMessageAttributes(message),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion,
  };
}

/** The receipt handles to delete after an invocation: all but the reported failures, or none. */
function recordsToDelete(records: SQSRecord[], outcome: SQSBatchResponse | void | Error): SQSRecord[] {
  if (outcome instanceof Error) return [];
  const failures = outcome?.batchItemFailures ?? [];
  const ids = new Set(records.map((r) => r.messageId));
  // Lambda treats an empty or unknown item identifier as a failure of the whole batch.
  if (failures.some((f) => !f.itemIdentifier || !ids.has(f.itemIdentifier))) return [];
  const failed = new Set(failures.map((f) => f.itemIdentifier));
  return records.filter((r) => !failed.has(r.messageId));
}

export function startSqsEventSource(opts: SqsEventSourceOptions): SqsEventSource {
  const { client, queueUrl, handler } = opts;
  const batchSize = Math.min(10, Math.max(1, opts.batchSize ?? 10));
  const waitTimeSeconds = Math.min(20, Math.max(0, opts.waitTimeSeconds ?? 1));
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const functionName = opts.functionName ?? 'local-sqs-consumer';
  const awsRegion = opts.awsRegion ?? 'us-east-1';
  const onError = opts.onError ?? ((err: unknown) => console.error('sqs event source:', err));
  let queueArn: Promise<string> | undefined = opts.queueArn ? Promise.resolve(opts.queueArn) : undefined;
  let running = false;
  let loops: Promise<void>[] = [];

  const arn = () =>
    (queueArn ??= client
      .send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
      .then((out) => out.Attributes?.QueueArn ?? queueUrl));

  async function drainOnce(): Promise<number> {
    const out = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return 0;
    const eventSourceARN = await arn();
    const records = messages.map((m) => toSqsRecord(m, eventSourceARN, awsRegion));
    let outcome: SQSBatchResponse | void | Error;
    try {
      outcome = await handler({ Records: records }, lambdaContext(functionName, 30_000));
    } catch (err) {
      onError(err);
      outcome = err instanceof Error ? err : new Error(String(err));
    }
    const done = recordsToDelete(records, outcome);
    for (let i = 0; i < done.length; i += 10) {
      const chunk = done.slice(i, i + 10);
      const res = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((r, n) => ({ Id: String(n), ReceiptHandle: r.receiptHandle })),
        }),
      );
      if (res.Failed?.length) onError(new Error(`could not delete ${res.Failed.length} processed message(s)`));
    }
    return records.length;
  }

  async function loop(): Promise<void> {
    while (running) {
      try {
        await drainOnce();
      } catch (err) {
        if (!running) return;
        onError(err);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loops = Array.from({ length: concurrency }, () => loop());
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      loops = [];
    },
    drainOnce,
  };
}
