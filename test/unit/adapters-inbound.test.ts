import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EnqueueError } from '../../functions/adapters/fifo-send';
import { sqsInboundQueue } from '../../functions/adapters/inbound-queue';
import { fileSecretSource, secretsManagerSource } from '../../functions/adapters/secrets';
import { accountActivitySchema, inboundMessageSchema, normaliseDelivery } from '../../functions/core/x-events';
import { fixtureBytes, testSecret } from '../support/x-fixtures';

const batch = normaliseDelivery(accountActivitySchema.parse(JSON.parse(fixtureBytes('batch-two-users.json').toString()))).messages;

describe('inbound queue adapter', () => {
  const sqs = mockClient(SQSClient);
  beforeEach(() => sqs.reset());

  it('groups by sender and de-duplicates by event id', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await sqsInboundQueue(new SQSClient({}), 'https://q').send(batch);
    const entries = sqs.commandCalls(SendMessageBatchCommand)[0].args[0].input.Entries!;
    expect(entries.map((e) => [e.MessageGroupId, e.MessageDeduplicationId])).toEqual([
      ['2900000000000000042', '1861000000000000301'],
      ['3100000000000000077', '1861000000000000302'],
      ['2900000000000000042', '1861000000000000303'],
    ]);
    // The text is stored once (in the original event) and derived again when read.
    expect(JSON.parse(entries[0].MessageBody!).text).toBeUndefined();
    expect(inboundMessageSchema.parse(JSON.parse(entries[0].MessageBody!)).text).toBe('primeira');
  });

  it('retries only the entries the queue refused', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }], Successful: [] })
      .resolves({ Failed: [], Successful: [] });
    await sqsInboundQueue(new SQSClient({}), 'https://q').send(batch);
    const second = sqs.commandCalls(SendMessageBatchCommand)[1].args[0].input.Entries!;
    expect(second.map((e) => e.MessageDeduplicationId)).toEqual(['1861000000000000302']);
  });

  it('gives up with the event ids after the last attempt, so the webhook answers 5xx', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }], Successful: [] });
    await expect(sqsInboundQueue(new SQSClient({}), 'https://q', 2).send(batch.slice(0, 1))).rejects.toEqual(
      new EnqueueError('queue rejected 1 message(s) after 2 attempts', ['1861000000000000301']),
    );
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });

  it('sends more than ten messages in batches of ten, in order', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [], Successful: [] });
    const many = Array.from({ length: 23 }, (_, i) => ({ ...batch[0], eventId: String(i) }));
    await sqsInboundQueue(new SQSClient({}), 'https://q').send(many);
    const sizes = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries!.length);
    expect(sizes).toEqual([10, 10, 3]);
  });
});

describe('tenant secret', () => {
  const sm = mockClient(SecretsManagerClient);
  beforeEach(() => sm.reset());

  it('is read once and cached across invocations', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(testSecret) });
    const source = secretsManagerSource(new SecretsManagerClient({}), 'arn:secret');
    await source.get();
    await source.get();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('is read again after a failure or an invalidation', async () => {
    sm.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: JSON.stringify(testSecret) });
    const source = secretsManagerSource(new SecretsManagerClient({}), 'arn:secret');
    await expect(source.get()).rejects.toThrow('throttled');
    await expect(source.get()).resolves.toEqual(testSecret);
    source.invalidate();
    await source.get();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('explains an empty or incomplete secret without echoing its values', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: '' }).resolves({ SecretString: JSON.stringify({ consumerKey: 'k-123', consumerSecret: 's-456' }) });
    const source = secretsManagerSource(new SecretsManagerClient({}), 'arn:secret');
    await expect(source.get()).rejects.toThrow('secret arn:secret is empty');
    const err = (await source.get().catch((e: Error) => e)) as Error;
    expect(err.message).toContain('accessToken');
    expect(err.message).not.toContain('s-456');
  });

  it('can come from a local file with the same shape', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'secret-')), 'secrets.json');
    writeFileSync(file, JSON.stringify(testSecret));
    await expect(fileSecretSource(file).get()).resolves.toEqual(testSecret);
  });
});
