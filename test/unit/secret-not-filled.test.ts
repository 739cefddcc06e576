import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretsManagerSource, type SecretSource } from '../../functions/adapters/secrets';
import { createCrcHandler } from '../../functions/crc/handler';
import { SecretNotFilledError } from '../../functions/core/errors';
import { Metric } from '../../functions/core/metric-names';
import { createWebhookHandler } from '../../functions/webhook/handler';
import { testObservability } from '../support/observability';
import { refusingParking } from '../support/parking';
import { fixtureBytes, httpEvent, lambdaContext, vectors } from '../support/x-fixtures';
import { signPayload } from '../../functions/core/x-signature';

/** What Secrets Manager answers for a secret created without a value (no AWSCURRENT version). */
const noValueYet = () =>
  new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT", $metadata: {} });
const noSuchSecret = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });

describe('a secret nobody filled yet', () => {
  const sm = mockClient(SecretsManagerClient);
  beforeEach(() => sm.reset());

  it('is reported with the "fill the secret" hint, as SecretNotFilledError, not as ResourceNotFoundException', async () => {
    sm.on(GetSecretValueCommand).rejects(noValueYet());
    const err = await secretsManagerSource(new SecretsManagerClient({}), 'arn:secret').get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretNotFilledError);
    expect((err as Error).message).toBe('secret arn:secret is empty: fill it with the documented JSON shape (docs/deploy.md, "Filling the secret")');
  });

  it('an empty string value gives the same error', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: '' });
    await expect(secretsManagerSource(new SecretsManagerClient({}), 'arn:secret').get()).rejects.toBeInstanceOf(SecretNotFilledError);
  });

  it('a secret that does not exist at all is not mistaken for an empty one', async () => {
    sm.on(GetSecretValueCommand).rejects(noSuchSecret());
    const err = await secretsManagerSource(new SecretsManagerClient({}), 'arn:secret').get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err).not.toBeInstanceOf(SecretNotFilledError);
  });
});

describe('handlers count secret failures for the alarms', () => {
  const failing = (err: Error): SecretSource => ({ get: () => Promise.reject(err), invalidate: () => undefined });
  const signed = () => {
    const body = fixtureBytes('dm-received.json');
    return httpEvent({ body, headers: { 'x-twitter-webhooks-signature': signPayload(vectors.consumerSecret, body) } });
  };
  const noQueue = { send: () => Promise.reject(new Error('must not be called')) };

  it('webhook: an empty secret → 503 and SecretNotFilled', async () => {
    const obs = testObservability();
    const res = await createWebhookHandler({ parking: refusingParking, ...obs, secrets: failing(new SecretNotFilledError('empty')), queue: noQueue, xAccountId: '1400000000000000001' })(signed(), lambdaContext);
    expect(res.statusCode).toBe(503);
    expect(obs.published()).toEqual({ [Metric.SecretNotFilled]: 1 });
  });

  it('webhook: any other unreadable secret → 503 and SecretUnavailable', async () => {
    const obs = testObservability();
    const res = await createWebhookHandler({ parking: refusingParking, ...obs, secrets: failing(new Error('AccessDenied')), queue: noQueue, xAccountId: '1400000000000000001' })(signed(), lambdaContext);
    expect(res.statusCode).toBe(503);
    expect(obs.published()).toEqual({ [Metric.SecretUnavailable]: 1 });
  });

  it('crc: an empty secret → 500, CrcFailed and SecretNotFilled', async () => {
    const obs = testObservability();
    const res = await createCrcHandler({ ...obs, secrets: failing(new SecretNotFilledError('empty')) })(
      httpEvent({ method: 'GET', query: { crc_token: vectors.crcToken } }),
      lambdaContext,
    );
    expect(res.statusCode).toBe(500);
    expect(obs.published()).toEqual({ [Metric.CrcFailed]: 1, [Metric.SecretNotFilled]: 1 });
  });
});
