import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { consumerSecretSourceFor } from '../../functions/adapters/secrets';
import { SecretNotFilledError } from '../../functions/core/errors';
import { copyConsumerSecret, sameSecret } from '../../cli/consumer-secret';
import { resourceNames } from '../../infra/resource-names';
import { testSecret } from '../support/x-fixtures';

/** Issue 16 §8: crc and webhook read the consumer secret alone. */
describe('the consumer secret source', () => {
  const sm = mockClient(SecretsManagerClient);
  beforeEach(() => sm.reset());

  it('locally reads only consumerSecret out of the tenant\'s secrets file (npm start keeps working offline)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'consumer-')), 'secrets.json');
    writeFileSync(file, JSON.stringify({ ...testSecret, fourbizUser: 'integrador', fourbizPassword: 'S3nh@' }));
    expect(await consumerSecretSourceFor({ file }).get()).toEqual({ consumerSecret: testSecret.consumerSecret });
  });

  it('deployed, reads its own secret; an empty one is SecretNotFilled, a read that failed is read again', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT", $metadata: {} }))
      .resolves({ SecretString: JSON.stringify({ consumerSecret: 'abc' }) });
    const source = consumerSecretSourceFor({ arn: 'arn:consumer' }, new SecretsManagerClient({}));
    await expect(source.get()).rejects.toBeInstanceOf(SecretNotFilledError);
    expect(await source.get()).toEqual({ consumerSecret: 'abc' });
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual(['arn:consumer', 'arn:consumer']);
  });

  it('names a missing field, never a value', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ consumerKey: 'k-value' }) });
    const err = await consumerSecretSourceFor({ arn: 'arn:consumer' }, new SecretsManagerClient({})).get().catch((e: unknown) => e as Error);
    expect((err as Error).message).toContain('consumerSecret');
    expect((err as Error).message).not.toContain('k-value');
  });
});

describe('npm run x -- consumer-secret', () => {
  const sm = mockClient(SecretsManagerClient);
  beforeEach(() => sm.reset());
  const names = resourceNames('acme');

  it('copies the tenant secret\'s consumerSecret into the consumer-secret secret, and only that field; says so without the value', async () => {
    sm.on(GetSecretValueCommand, { SecretId: names.secret }).resolves({ SecretString: JSON.stringify({ ...testSecret, fourbizPassword: 'S3nh@' }) });
    sm.on(GetSecretValueCommand, { SecretId: names.consumerSecret }).rejects(new ResourceNotFoundException({ message: "can't find the specified secret value for staging label: AWSCURRENT", $metadata: {} }));
    sm.on(PutSecretValueCommand).resolves({});
    const line = await copyConsumerSecret(new SecretsManagerClient({}), 'acme');
    expect(sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: names.consumerSecret, SecretString: JSON.stringify({ consumerSecret: testSecret.consumerSecret }) },
    ]);
    expect(line).toContain(`into ${names.consumerSecret}`);
    expect(line).not.toContain(testSecret.consumerSecret);
  });

  it('writes nothing when it already holds the same value', async () => {
    sm.on(GetSecretValueCommand, { SecretId: names.secret }).resolves({ SecretString: JSON.stringify(testSecret) });
    sm.on(GetSecretValueCommand, { SecretId: names.consumerSecret }).resolves({ SecretString: JSON.stringify({ consumerSecret: testSecret.consumerSecret }) });
    expect(await copyConsumerSecret(new SecretsManagerClient({}), 'acme')).toContain('nothing to do');
    expect(sm.commandCalls(PutSecretValueCommand)).toEqual([]);
  });

  it('compares by digest', () => {
    expect(sameSecret('a', 'a')).toBe(true);
    expect(sameSecret('a', 'ab')).toBe(false);
  });
});
