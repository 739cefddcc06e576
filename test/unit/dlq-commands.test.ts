import { mockClient } from 'aws-sdk-client-mock';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { isUnsupportedAction, redrive, type QueuePair } from '../../cli/dlq-commands';
import { main } from '../../cli/dlq';

const arn = (name: string) => `arn:aws:sqs:sa-east-1:123456789012:${name}`;
const pair: QueuePair = {
  queue: { name: '4biz-dm-acme-inbound.fifo', url: 'https://sqs/q', arn: arn('4biz-dm-acme-inbound.fifo') },
  dlq: { name: '4biz-dm-acme-inbound-dlq.fifo', url: 'https://sqs/dlq', arn: arn('4biz-dm-acme-inbound-dlq.fifo') },
};

describe('npm run dlq -- redrive (on AWS)', () => {
  const sqs = mockClient(SQSClient);
  beforeEach(() => sqs.reset());

  it('starts SQS’s message-move task from the DLQ to its queue and follows it to completion', async () => {
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [{ TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 7 }] })
      .resolves({ Results: [{ TaskHandle: 'task-1', Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 7, ApproximateNumberOfMessagesToMove: 7 }] });
    const lines: string[] = [];
    const result = await redrive(new SQSClient({}), pair, (l) => lines.push(l), { sleep: async () => undefined });
    expect(result).toEqual({ method: 'message-move-task', moved: 7, status: 'COMPLETED' });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0].args[0].input).toEqual({ SourceArn: pair.dlq.arn, DestinationArn: pair.queue.arn });
    expect(lines.join('\n')).toMatch(/RUNNING: 3 of 7 moved[\s\S]*COMPLETED: 7 of 7 moved/);
  });

  it('reports a failed move task as an error with its reason', async () => {
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 't' });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [{ TaskHandle: 't', Status: 'FAILED', FailureReason: 'AccessDenied' }] });
    await expect(redrive(new SQSClient({}), pair, () => undefined, { sleep: async () => undefined })).rejects.toThrow(/AccessDenied/);
  });

  it('does not fall back when AWS refuses for another reason (e.g. permissions)', async () => {
    sqs.on(StartMessageMoveTaskCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    await expect(redrive(new SQSClient({}), pair, () => undefined)).rejects.toThrow(/not authorized/);
  });

  it('finds the tenant’s queues by name and prints the counts', async () => {
    sqs.on(GetQueueUrlCommand).callsFake((input: { QueueName: string }) => ({ QueueUrl: `https://sqs/${input.QueueName}` }));
    sqs.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl: string; AttributeNames: string[] }) =>
      input.AttributeNames.includes('QueueArn')
        ? { Attributes: { QueueArn: arn(input.QueueUrl.split('/').pop()!) } }
        : { Attributes: { ApproximateNumberOfMessages: input.QueueUrl.includes('dlq') ? '4' : '0', ApproximateNumberOfMessagesNotVisible: '1' } },
    );
    const lines: string[] = [];
    expect(await main(['count', '--tenant', 'acme'], (l) => lines.push(l), new SQSClient({}))).toBe(0);
    expect(lines).toEqual(['4biz-dm-acme-inbound.fifo: 0 waiting, 1 in flight', '4biz-dm-acme-inbound-dlq.fifo: 4 waiting, 1 in flight']);
    expect(sqs.commandCalls(GetQueueUrlCommand).map((c) => c.args[0].input.QueueName)).toEqual(['4biz-dm-acme-inbound.fifo', '4biz-dm-acme-inbound-dlq.fifo']);
  });

  it('rejects a missing tenant or an unknown queue with the usage', async () => {
    const lines: string[] = [];
    expect(await main(['redrive'], (l) => lines.push(l), new SQSClient({}))).toBe(1);
    expect(await main(['redrive', '--tenant', 'acme', '--queue', 'sideways'], (l) => lines.push(l), new SQSClient({}))).toBe(1);
    expect(lines.join('\n')).toContain('Usage: npm run dlq');
  });
});

describe('recognising an endpoint without StartMessageMoveTask', () => {
  it.each([
    [{ name: 'InvalidAction', message: 'Unknown action: StartMessageMoveTask' }],
    [{ name: 'UnsupportedOperation', message: 'not supported' }],
    [{ name: 'SQSServiceException', message: 'Unknown action: StartMessageMoveTask' }],
  ])('%o', (err) => expect(isUnsupportedAction(err)).toBe(true));

  it('but not throttling or permissions', () => {
    expect(isUnsupportedAction({ name: 'AccessDeniedException', message: 'denied' })).toBe(false);
    expect(isUnsupportedAction({ name: 'RequestThrottled', message: 'slow down' })).toBe(false);
  });
});
