import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { redrive, type QueuePair } from '../../cli/dlq-commands';
import { main } from '../../cli/dlq';

const arn = (name: string) => `arn:aws:sqs:sa-east-1:123456789012:${name}`;
const pair: QueuePair = {
  queue: { name: '4biz-dm-acme-inbound.fifo', url: 'https://sqs/q', arn: arn('4biz-dm-acme-inbound.fifo') },
  dlq: { name: '4biz-dm-acme-inbound-dlq.fifo', url: 'https://sqs/dlq', arn: arn('4biz-dm-acme-inbound-dlq.fifo') },
};

describe('npm run dlq -- redrive (on AWS)', () => {
  const sqs = mockClient(SQSClient);
  beforeEach(() => sqs.reset());

  it('moves the messages back itself (the queues have no redrive policy, so SQS\'s message-move task cannot start), group and order kept', async () => {
    const batch = [
      { MessageId: 'm1', ReceiptHandle: 'r1', Body: 'a', Attributes: { MessageGroupId: 'u1' } },
      { MessageId: 'm2', ReceiptHandle: 'r2', Body: 'b', Attributes: { MessageGroupId: 'u1' } },
    ];
    sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: batch }).resolves({ Messages: [] });
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const result = await redrive(new SQSClient({}), pair, () => undefined);
    expect(result).toEqual({ method: 'receive-send-delete', moved: 2, status: 'COMPLETED' });
    const sent = sqs.commandCalls(SendMessageBatchCommand)[0].args[0].input;
    expect(sent.QueueUrl).toBe(pair.queue.url);
    expect(sent.Entries!.map((e) => [e.MessageGroupId, e.MessageBody])).toEqual([['u1', 'a'], ['u1', 'b']]);
    expect(sqs.commandCalls(DeleteMessageBatchCommand)[0].args[0].input.QueueUrl).toBe(pair.dlq.url);
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
