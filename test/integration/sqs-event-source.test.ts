import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { startSqsEventSource } from '../../local/sqs-event-source';
import { createTestQueuePair, testSqsClient } from '../support/aws';
import { until } from '../support/until';

async function visibleAndInFlight(client: SQSClient, queueUrl: string): Promise<number> {
  const out = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function send(client: SQSClient, queueUrl: string, group: string, id: string): Promise<void> {
  await client.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ id }), MessageGroupId: group, MessageDeduplicationId: id }),
  );
}

describe('local SQS event source (Lambda event source mapping semantics)', () => {
  const client = testSqsClient();
  afterAll(() => client.destroy());

  it('hands the handler a real SQSEvent with FIFO attributes and deletes what succeeded', async () => {
    const { queueUrl } = await createTestQueuePair(client, 'esm-ok', { visibilityTimeoutSeconds: 1 });
    await send(client, queueUrl, 'user-1', 'a');
    const seen: SQSRecord[] = [];
    const source = startSqsEventSource({
      client,
      queueUrl,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:q.fifo',
      waitTimeSeconds: 0,
      handler: async (event: SQSEvent) => {
        seen.push(...event.Records);
        return { batchItemFailures: [] };
      },
    });
    expect(await source.drainOnce()).toBe(1);
    expect(seen[0]).toMatchObject({
      body: JSON.stringify({ id: 'a' }),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q.fifo',
      attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'user-1', MessageDeduplicationId: 'a' },
    });
    expect(seen[0].attributes.SequenceNumber).toBeDefined();
    expect(await visibleAndInFlight(client, queueUrl)).toBe(0);
  });

  it('keeps reported failures (they come back with a higher receive count), deletes the rest', async () => {
    const { queueUrl } = await createTestQueuePair(client, 'esm-partial', { visibilityTimeoutSeconds: 1 });
    await send(client, queueUrl, 'user-1', 'bad');
    await send(client, queueUrl, 'user-2', 'good');
    const receives: Record<string, string[]> = {};
    const source = startSqsEventSource({
      client,
      queueUrl,
      waitTimeSeconds: 0,
      handler: async (event) => {
        for (const r of event.Records) (receives[JSON.parse(r.body).id] ??= []).push(r.attributes.ApproximateReceiveCount);
        return { batchItemFailures: event.Records.filter((r) => r.body.includes('bad')).map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    source.start();
    await until('the failing batch received twice', () => (receives.bad?.length ?? 0) >= 2, 10_000);
    await source.stop();
    expect(receives.good).toEqual(['1']);
    expect(receives.bad.slice(0, 2)).toEqual(['1', '2']);
  });

  it('fails the whole batch when the handler throws, and the redrive policy moves it to the DLQ', async () => {
    const { queueUrl, dlqUrl } = await createTestQueuePair(client, 'esm-throw', { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
    await send(client, queueUrl, 'user-1', 'x');
    let calls = 0;
    const errors: unknown[] = [];
    const source = startSqsEventSource({
      client,
      queueUrl,
      waitTimeSeconds: 0,
      onError: (e) => errors.push(e),
      handler: async () => {
        calls++;
        throw new Error('boom');
      },
    });
    source.start();
    await until('the message in the DLQ', async () => (await visibleAndInFlight(client, dlqUrl)) === 1, 10_000);
    await source.stop();
    expect(calls).toBe(2);
    expect(errors).toHaveLength(2);
    expect(await visibleAndInFlight(client, queueUrl)).toBe(0);
  });
});
