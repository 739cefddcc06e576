import { createXClient, RecipientRefusedError, XAuthError } from '../../functions/adapters/x-client';
import type { SecretSource } from '../../functions/adapters/secrets';
import type { TenantSecret } from '../../functions/config';
import { PermanentError, TransientError } from '../../functions/core/errors';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';

const person = '2900000000000000042';

function secretsFor(sim: XApiSimulator, over: Partial<Pick<TenantSecret, 'accessToken' | 'accessTokenSecret'>> = {}): SecretSource & { invalidations: number } {
  const { consumerKey, consumerSecret, accessToken, accessTokenSecret } = sim.credentials;
  const source = {
    invalidations: 0,
    get: async () => ({ consumerKey, consumerSecret, accessToken, accessTokenSecret, ...over }),
    invalidate: () => {
      source.invalidations++;
    },
  };
  return source;
}

describe('X client (twitter-api-v2 pointed at the X simulator)', () => {
  let sim: XApiSimulator;
  beforeEach(async () => {
    sim = await startXApiSimulator();
  });
  afterEach(() => sim.close());

  it('sends a DM to the participant with OAuth 1.0a user context', async () => {
    const x = createXClient(secretsFor(sim), { baseUrl: sim.url });
    const out = await x.sendDm(person, 'Olá 👋🏽 Maria');
    expect(sim.dms.map((d) => [d.participantId, d.text])).toEqual([[person, 'Olá 👋🏽 Maria']]);
    expect(out.dmEventId).toBe(sim.dms[0].dmEventId);
  });

  it('turns a 429 into a retryable error that says when the rate limit resets', async () => {
    const resetAt = Math.floor(Date.now() / 1000) + 30;
    sim.failNext(1, { status: 429, resetAt }, 'dm');
    const x = createXClient(secretsFor(sim), { baseUrl: sim.url });
    const err = await x.sendDm(person, 'oi').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).retryAt).toBe(resetAt * 1000);
    expect(sim.dms).toHaveLength(0);
  });

  it('turns refused keys into an auth error and re-reads the secret', async () => {
    const secrets = secretsFor(sim, { accessTokenSecret: 'wrong' });
    const x = createXClient(secrets, { baseUrl: sim.url });
    const err = await x.sendDm(person, 'oi').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XAuthError);
    // The keys are at fault, not the reply: retried while someone fixes them (issue 8 §8).
    expect(err).toBeInstanceOf(TransientError);
    expect(secrets.invalidations).toBe(1);
  });

  it('tells a person refusing DMs (the reply\'s problem) from X blaming the app\'s permissions (the keys\' problem)', async () => {
    const secrets = secretsFor(sim);
    const x = createXClient(secrets, { baseUrl: sim.url });
    sim.dmRefusers.add(person);
    const refused = await x.sendDm(person, 'oi').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RecipientRefusedError);
    expect(refused).toBeInstanceOf(PermanentError);
    expect(secrets.invalidations).toBe(0);
    sim.dmRefusers.clear();
    sim.failNext(1, { status: 403, problem: 'oauth1-permissions' }, 'dm');
    const keys = await x.sendDm(person, 'oi').catch((e: unknown) => e);
    expect(keys).toBeInstanceOf(XAuthError);
    expect(secrets.invalidations).toBe(1);
  });

  it('treats 5xx and an unreachable X as retryable, a bad request as permanent', async () => {
    const x = createXClient(secretsFor(sim), { baseUrl: sim.url });
    sim.failNext(1, { status: 503 }, 'dm');
    await expect(x.sendDm(person, 'oi')).rejects.toBeInstanceOf(TransientError);
    await expect(x.sendDm(person, 'a'.repeat(10_001))).rejects.toThrow(PermanentError);
    const url = sim.url;
    await sim.close();
    await expect(createXClient(secretsFor(sim), { baseUrl: url }).sendDm(person, 'oi')).rejects.toBeInstanceOf(TransientError);
    sim = await startXApiSimulator();
  });
});
