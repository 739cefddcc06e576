import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { main } from '../../cli/dlq';
import { REDRIVE_ORDER_NOTE } from '../../cli/dlq-commands';
import { resourceNames } from '../../infra/resource-names';
import { testSqsClient, uniqueName } from '../support/aws';

describe('npm run dlq -- redrive (fauxqs)', () => {
  const sqs = testSqsClient();
  afterAll(() => sqs.destroy());

  it('moves the messages back by receive → send → delete, keeps each group’s order, and says so', async () => {
    const tenant = uniqueName('t');
    const names = resourceNames(tenant);
    const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: names.inboundDlq, Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const queueUrl = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: names.inboundQueue,
          Attributes: { FifoQueue: 'true', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }) },
        }),
      )
    ).QueueUrl!;
    const parked = [
      ['u1', 'u1-a'],
      ['u2', 'u2-a'],
      ['u1', 'u1-b'],
      ['u1', 'u1-c'],
    ];
    for (const [group, id] of parked) {
      await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: id, MessageGroupId: group, MessageDeduplicationId: id }));
    }

    const lines: string[] = [];
    expect(await main(['redrive', '--tenant', tenant], (l) => lines.push(l), sqs)).toBe(0);
    // The order it gives is said, not implied (issue 8 §7).
    expect(lines).toContain(REDRIVE_ORDER_NOTE);
    expect(lines.at(-1)).toBe('done (receive-send-delete): 4 moved, status COMPLETED');

    const received: { group: string; body: string }[] = [];
    for (let i = 0; i < 10 && received.length < 4; i++) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));
      for (const m of Messages ?? []) {
        received.push({ group: m.Attributes!.MessageGroupId!, body: m.Body! });
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
    }
    expect(received.filter((r) => r.group === 'u1').map((r) => r.body)).toEqual(['u1-a', 'u1-b', 'u1-c']);
    expect(received.filter((r) => r.group === 'u2').map((r) => r.body)).toEqual(['u2-a']);

    const after: string[] = [];
    await main(['count', '--tenant', tenant], (l) => after.push(l), sqs);
    expect(after).toEqual([`${names.inboundQueue}: 0 waiting, 0 in flight`, `${names.inboundDlq}: 0 waiting, 0 in flight`]);
  });
});
