import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as destroy } from '../../cli/destroy';
import { main as dlq } from '../../cli/dlq';
import { inboundQueueBody } from '../../functions/core/x-events';
import { resourceNames } from '../../infra/resource-names';
import { testSqsClient, uniqueName } from '../support/aws';
import { modelDm, T0 } from '../support/fifo-model-tenant';

/** `npm run destroy` refuses to delete queues holding messages; `npm run dlq -- export/import` keeps them across a redeploy. */
const sqs = testSqsClient();
afterAll(() => sqs.destroy());

async function tenantWithQueues(client: SQSClient) {
  const tenant = uniqueName('d').toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const names = resourceNames(tenant);
  const dlqUrl = (await client.send(new CreateQueueCommand({ QueueName: names.inboundDlq, Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  const dlqArn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const queueUrl = (
    await client.send(
      new CreateQueueCommand({
        QueueName: names.inboundQueue,
        Attributes: { FifoQueue: 'true', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }) },
      }),
    )
  ).QueueUrl!;
  const dir = mkdtempSync(join(tmpdir(), 'tenants-'));
  writeFileSync(
    join(dir, `${tenant}.json`),
    JSON.stringify({ name: tenant, region: 'sa-east-1', xAccountId: '1', fourbiz: { mode: 'relay', callbackUrl: 'https://x.example/cb' } }),
  );
  return { tenant, names, dlqUrl, queueUrl, dir };
}

describe('npm run destroy', () => {
  it('refuses while a DLQ holds DMs, naming the queue and the export command; never runs cdk destroy', async () => {
    const t = await tenantWithQueues(sqs);
    await sqs.send(new SendMessageCommand({ QueueUrl: t.dlqUrl, MessageBody: '{"dm":1}', MessageGroupId: 'u1', MessageDeduplicationId: 'e1' }));
    const lines: string[] = [];
    const runDestroy = jest.fn(() => 0);
    expect(await destroy(['--tenant', t.tenant], (l) => lines.push(l), { sqs, runDestroy, tenantsDir: t.dir })).toBe(1);
    expect(runDestroy).not.toHaveBeenCalled();
    expect(lines).toContain(`${t.names.inboundDlq}: 1 waiting, 0 in flight`);
    expect(lines.join('\n')).toContain(`npm run dlq -- export --tenant ${t.tenant} --queue inbound --from dlq --file ${t.tenant}-inbound-dlq.jsonl`);
  });

  it('export → destroy → import: the DMs leave the DLQ for a file, destroy proceeds, and they come back in order', async () => {
    const t = await tenantWithQueues(sqs);
    // DMs to the tenant's account ("1" in its file), as the webhook queues them.
    const body = (group: string, id: string) => JSON.stringify(inboundQueueBody(modelDm(group, id, T0)));
    for (const [group, id] of [['2901', '101'], ['2902', '102'], ['2901', '103']] as const) {
      await sqs.send(new SendMessageCommand({ QueueUrl: t.dlqUrl, MessageBody: body(group, id), MessageGroupId: group, MessageDeduplicationId: id }));
    }
    const file = join(t.dir, 'kept.jsonl');
    const out: string[] = [];
    expect(await dlq(['export', '--tenant', t.tenant, '--file', file], (l) => out.push(l), sqs)).toBe(0);
    expect(out.at(-1)).toBe(`done: 3 message(s) of ${t.names.inboundDlq} are in ${file} (and no longer in the queue)`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).body)).toEqual(expect.arrayContaining([body('2901', '101'), body('2902', '102'), body('2901', '103')]));
    // A second export never overwrites the file holding the DMs.
    await expect(dlq(['export', '--tenant', t.tenant, '--file', file], () => undefined, sqs)).rejects.toThrow(/EEXIST/);

    const runDestroy = jest.fn(() => 0);
    const lines: string[] = [];
    expect(await destroy(['--tenant', t.tenant], (l) => lines.push(l), { sqs, runDestroy, tenantsDir: t.dir })).toBe(0);
    expect(runDestroy).toHaveBeenCalledWith(t.tenant, 'sa-east-1');
    expect(lines.join('\n')).toMatch(/wait 60 s/);

    // After the redeploy: back to the inbound queue, each group in its order.
    const imported: string[] = [];
    expect(await dlq(['import', '--tenant', t.tenant, '--file', file], (l) => imported.push(l), sqs, { tenantsDir: t.dir })).toBe(0);
    expect(imported).toContain('3 accepted, 0 refused');
    const bodies: { group: string; body: string }[] = [];
    for (let i = 0; i < 10 && bodies.length < 3; i++) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: t.queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], VisibilityTimeout: 60 }));
      for (const m of Messages ?? []) {
        bodies.push({ group: m.Attributes!.MessageGroupId!, body: m.Body! });
        await sqs.send(new DeleteMessageCommand({ QueueUrl: t.queueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
    }
    expect(bodies.filter((b) => b.group === '2901').map((b) => b.body)).toEqual([body('2901', '101'), body('2901', '103')]);
    expect(bodies.filter((b) => b.group === '2902').map((b) => b.body)).toEqual([body('2902', '102')]);
    expect(existsSync(file)).toBe(true);
  });

  it('import refuses, line by line, a file that is not an export of this queue', async () => {
    const t = await tenantWithQueues(sqs);
    const file = join(t.dir, 'bad.jsonl');
    writeFileSync(file, '{"messageId":"m1","body":"x","queue":"q"}\nnot json\n{"body":"y"}\n');
    const lines: string[] = [];
    expect(await dlq(['import', '--tenant', t.tenant, '--file', file], (l) => lines.push(l), sqs, { tenantsDir: t.dir })).toBe(1);
    expect(lines).toEqual([
      `${file}:1: refused: exported from q, not from ${t.names.inboundQueue} or its DLQ`,
      `${file}:2: refused: not JSON`,
      `${file}:3: refused: not an exported message (messageId, queue)`,
      '0 accepted, 3 refused',
      `done: 0 message(s) from ${file} sent to ${t.names.inboundQueue}`,
    ]);
  });
});
