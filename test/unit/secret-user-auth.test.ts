import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSecretSource, staticSecretSource } from '../../functions/adapters/secrets';
import { companyXApi, createXClient } from '../../functions/adapters/x-client';
import { createDmEventsSource } from '../../functions/adapters/x-dm-events';
import { twitterWebhookApi } from '../../functions/adapters/x-webhooks';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';

/**
 * Issue 18 §4: a tenant that chose OAuth 2.0 (userAuth "oauth2") needs no OAuth 1.0a access token
 * in its secret (the consumer key and secret stay: CRC, signatures, the app bearer token); one on
 * OAuth 1.0a is told clearly what it lacks.
 */
const person = '2900000000000000042';

describe('the tenant secret per user context', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secret-user-auth-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const read = async (name: string, value: unknown) => {
    const file = join(dir, name);
    await writeFile(file, JSON.stringify(value));
    return fileSecretSource(file).get();
  };

  it('OAuth 1.0a (the default) without its access token: the fields and what fixes it, no value', async () => {
    const err = await read('oauth1.json', { consumerKey: 'ck-value', consumerSecret: 'cs-value', accessToken: 'at-value' }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /is missing or has invalid fields: accessTokenSecret \(OAuth 1\.0a \(userAuth "oauth1a", the default\) needs the company account's accessToken and accessTokenSecret; for OAuth 2\.0 instead run npm run x -- authorize --tenant NAME\)/,
    );
    expect((err as Error).message).not.toMatch(/ck-value|cs-value|at-value/);
  });

  it('OAuth 2.0 without OAuth 1.0a keys is a valid secret; without its tokens it names authorize', async () => {
    const oauth2 = { clientId: 'cid', accessToken: 'o2-access', refreshToken: 'o2-refresh', expiresAt: '2026-12-02T12:00:00.000Z' };
    await expect(read('oauth2.json', { consumerKey: 'ck', consumerSecret: 'cs', userAuth: 'oauth2', oauth2 })).resolves.toMatchObject({ userAuth: 'oauth2', oauth2 });
    await expect(read('oauth2-none.json', { consumerKey: 'ck', consumerSecret: 'cs', userAuth: 'oauth2' })).rejects.toThrow(
      /missing or has invalid fields: oauth2 \(userAuth "oauth2" needs the oauth2 tokens: run npm run x -- authorize --tenant NAME\)/,
    );
    await expect(read('oauth3.json', { consumerKey: 'ck', consumerSecret: 'cs', userAuth: 'oauth3' })).rejects.toThrow(/userAuth \(userAuth is "oauth1a" \(the default\) or "oauth2"\)/);
    // The consumer key and secret stay needed with either user context.
    await expect(read('oauth2-no-app.json', { userAuth: 'oauth2', oauth2 })).rejects.toThrow(/invalid fields: consumerKey, consumerSecret/);
  });
});

describe('an OAuth 2.0 tenant without OAuth 1.0a keys calls X with its choice', () => {
  let sim: XApiSimulator;
  beforeAll(async () => {
    sim = await startXApiSimulator({ switches: { oauth1ForPrivateEvents: 'refused' } });
  });
  afterAll(() => sim.close());

  const secrets = () => {
    sim.oauth2UserTokens.add('o2-only-access');
    const { consumerKey, consumerSecret } = sim.credentials;
    const oauth2 = { clientId: sim.oauth2Client.clientId, accessToken: 'o2-only-access', refreshToken: 'o2-only-refresh', expiresAt: new Date(Date.now() + 3_600_000).toISOString() };
    return staticSecretSource({ consumerKey, consumerSecret, userAuth: 'oauth2', oauth2 });
  };

  it('sends, looks up DMs and subscribes', async () => {
    const source = secrets();
    await expect(createXClient(source, { baseUrl: sim.url }).sendDm(person, 'olá')).resolves.toMatchObject({ dmEventId: expect.any(String) });
    sim.addDmEvent({ senderId: person, username: 'p', name: 'P', text: 'oi' });
    await expect(createDmEventsSource(source, { baseUrl: sim.url }).page(undefined, 10)).resolves.toMatchObject({ data: expect.any(Array) });
    const keys = await source.get();
    const api = twitterWebhookApi(keys, sim.url, companyXApi(source, { baseUrl: sim.url }));
    sim.webhooks.push({ id: '1700000000000000001', url: 'https://bridge.localhost/hook', valid: true, created_at: new Date().toISOString() });
    await expect(api.createActivitySubscription({ eventType: 'dm.received', userId: sim.accountId, webhookId: '1700000000000000001', tag: 't' })).resolves.toMatchObject({ event_type: 'dm.received' });
    await expect(api.subscribe('1700000000000000001')).resolves.toBe(true);
    expect(sim.dms.map((d) => d.text)).toEqual(['olá']);
  });

  it('without OAuth 2.0 tokens at hand, a user-context call says what is missing and which command fixes it', async () => {
    const { consumerKey, consumerSecret } = sim.credentials;
    const api = twitterWebhookApi({ consumerKey, consumerSecret, bearerToken: sim.credentials.bearerToken }, sim.url);
    await expect(api.subscribe('1')).rejects.toThrow(/no OAuth 1\.0a accessToken\/accessTokenSecret and no OAuth 2\.0 tokens \(run npm run x -- authorize --tenant NAME\)/);
  });
});
