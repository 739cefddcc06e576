import { TwitterApi } from 'twitter-api-v2';
import { createXClient } from '../../functions/adapters/x-client';
import { staticSecretSource, type WritableSecretSource } from '../../functions/adapters/secrets';
import { usesOAuth2, XTokenRefreshError } from '../../functions/adapters/x-user-auth';
import type { TenantSecret } from '../../functions/config';
import type { LeaseStore } from '../../functions/core/lease';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';
import { checkOAuth2 } from '../../cli/doctor-checks';

const person = '2900000000000000042';

/** The tokens `authorize` would have stored: got from the simulator's token endpoint with a real PKCE exchange. */
async function authorized(sim: XApiSimulator): Promise<NonNullable<TenantSecret['oauth2']>> {
  const { clientId, clientSecret } = sim.oauth2Client;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const link = new TwitterApi({ clientId, clientSecret: clientSecret! }).generateOAuth2AuthLink(redirectUri, { scope: ['dm.read', 'dm.write', 'tweet.read', 'users.read', 'offline.access'] });
  const approve = await fetch(`${sim.url}/i/oauth2/authorize${new URL(link.url).search}`, { redirect: 'manual' });
  const code = new URL(approve.headers.get('location')!).searchParams.get('code')!;
  const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
  const res = await fetch(`${sim.url}/2/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: link.codeVerifier, redirect_uri: redirectUri }).toString(),
  });
  const t = (await res.json()) as { access_token: string; refresh_token: string; expires_in: number; scope: string };
  return { clientId, clientSecret, accessToken: t.access_token, refreshToken: t.refresh_token, expiresAt: new Date(Date.now() + t.expires_in * 1000).toISOString(), scope: t.scope };
}

function oauth2Secret(sim: XApiSimulator, oauth2: NonNullable<TenantSecret['oauth2']>): WritableSecretSource & { writes: number } {
  const { consumerKey, consumerSecret } = sim.credentials;
  // OAuth 1.0a keys that X would refuse: only OAuth 2.0 can succeed.
  const inner = staticSecretSource({ consumerKey, consumerSecret, accessToken: '1-not-valid', accessTokenSecret: 'not-valid', userAuth: 'oauth2', oauth2 });
  const source = {
    writes: 0,
    get: inner.get,
    invalidate: inner.invalidate,
    async update(fields: Partial<TenantSecret>) {
      source.writes++;
      return inner.update(fields);
    },
  };
  return source;
}

/** The secret as doctor hands it to checkOAuth2: one that chose OAuth 2.0. */
async function chosenOAuth2(source: WritableSecretSource) {
  const secret = await source.get();
  if (!usesOAuth2(secret)) throw new Error('the test secret should say userAuth "oauth2"');
  return secret;
}

/** An in-memory lease store with DynamoDB's semantics (conditional put, own-only delete). */
function memoryLeases(): LeaseStore {
  const held = new Map<string, string>();
  return {
    async tryAcquire(name, holder) {
      const current = held.get(name);
      if (current && current !== holder) return false;
      held.set(name, holder);
      return true;
    },
    async release(name, holder) {
      if (held.get(name) === holder) held.delete(name);
    },
  };
}

describe('OAuth 2.0 user context (tokens from authorize, refreshed with X\'s rotation)', () => {
  let sim: XApiSimulator;
  beforeEach(async () => {
    sim = await startXApiSimulator();
  });
  afterEach(() => sim.close());

  it('sends a DM with the OAuth 2.0 access token when the tenant chose OAuth 2.0', async () => {
    const secrets = oauth2Secret(sim, await authorized(sim));
    await createXClient(secrets, { baseUrl: sim.url }).sendDm(person, 'oi');
    expect(sim.dms.map((d) => d.text)).toEqual(['oi']);
    expect(secrets.writes).toBe(0);
  });

  it('refreshes a token about to expire, stores the rotated tokens before using them, and the old refresh token is spent', async () => {
    const tokens = await authorized(sim);
    const secrets = oauth2Secret(sim, { ...tokens, expiresAt: new Date(Date.now() + 60_000).toISOString() });
    sim.expireOAuth2AccessTokens();
    await createXClient(secrets, { baseUrl: sim.url }).sendDm(person, 'depois de 2 h');
    expect(sim.dms.map((d) => d.text)).toEqual(['depois de 2 h']);
    const stored = (await secrets.get()).oauth2!;
    expect(secrets.writes).toBe(1);
    expect(stored.refreshToken).not.toBe(tokens.refreshToken);
    expect(Date.parse(stored.expiresAt)).toBeGreaterThan(Date.now() + 3600_000);
    expect(sim.oauth2Grants).toEqual([{ grantType: 'authorization_code', ok: true }, { grantType: 'refresh_token', ok: true }]);
  });

  it('refreshes once when X refuses the access token before its expiry (401), then sends', async () => {
    const secrets = oauth2Secret(sim, await authorized(sim));
    sim.expireOAuth2AccessTokens();
    const x = createXClient(secrets, { baseUrl: sim.url });
    await expect(x.sendDm(person, 'oi')).rejects.toThrow(/401/);
    await x.sendDm(person, 'oi');
    expect(sim.dms).toHaveLength(1);
    expect(sim.oauth2Grants.filter((g) => g.grantType === 'refresh_token')).toHaveLength(1);
  });

  it('two processes due at once: one refresh (the lease), the other takes the winner\'s tokens from the secret', async () => {
    const tokens = await authorized(sim);
    const secrets = oauth2Secret(sim, { ...tokens, expiresAt: new Date(Date.now() - 1).toISOString() });
    const leases = memoryLeases();
    const a = createXClient(secrets, { baseUrl: sim.url, leases });
    const b = createXClient(secrets, { baseUrl: sim.url, leases });
    await Promise.all([a.sendDm(person, 'a'), b.sendDm(person, 'b')]);
    expect(sim.dms.map((d) => d.text).sort()).toEqual(['a', 'b']);
    expect(sim.oauth2Grants.filter((g) => g.grantType === 'refresh_token')).toEqual([{ grantType: 'refresh_token', ok: true }]);
  });

  it('a process that lost the race without a lease (its refresh token spent) re-reads the secret instead of failing', async () => {
    const tokens = await authorized(sim);
    const shared = oauth2Secret(sim, { ...tokens, expiresAt: new Date(Date.now() - 1).toISOString() });
    const stale = await shared.get();
    // The winner refreshes with the refresh token both read, and stores X's rotated tokens.
    await createXClient(shared, { baseUrl: sim.url }).sendDm(person, 'vencedor');
    // The loser read the secret before that: its refresh token is spent when it asks X.
    let staleReads = 2;
    const loser: WritableSecretSource = {
      get: async () => (staleReads-- > 0 ? stale : shared.get()),
      invalidate: shared.invalidate,
      update: shared.update,
    };
    await createXClient(loser, { baseUrl: sim.url }).sendDm(person, 'perdedor');
    expect(sim.dms.map((d) => d.text)).toEqual(['vencedor', 'perdedor']);
    expect(sim.oauth2Grants.filter((g) => g.grantType === 'refresh_token')).toEqual([
      { grantType: 'refresh_token', ok: true },
      { grantType: 'refresh_token', ok: false },
    ]);
    expect(shared.writes).toBe(1);
  });

  it('npm run doctor checks the tokens: refreshable ones pass (refreshed and stored when due); missing scopes or a refused refresh fail, naming authorize', async () => {
    const tokens = await authorized(sim);
    const due = oauth2Secret(sim, { ...tokens, expiresAt: new Date(Date.now() - 1).toISOString() });
    const good = await checkOAuth2(await chosenOAuth2(due), due, sim.url);
    expect(good).toMatchObject({ name: 'x-oauth2', ok: true });
    expect(due.writes).toBe(1);

    const narrow = oauth2Secret(sim, { ...tokens, scope: 'tweet.read users.read' });
    expect(await checkOAuth2(await chosenOAuth2(narrow), narrow, sim.url)).toMatchObject({ ok: false, detail: expect.stringContaining('dm.read'), fix: expect.stringContaining('authorize') });

    const revoked = oauth2Secret(sim, { ...tokens, refreshToken: 'revoked', expiresAt: new Date(Date.now() - 1).toISOString() });
    expect(await checkOAuth2(await chosenOAuth2(revoked), revoked, sim.url)).toMatchObject({ ok: false, fix: expect.stringContaining('npm run x -- authorize') });
  });

  it('raises XTokenRefreshFailed when X refuses the refresh token for good: authorize again', async () => {
    const tokens = await authorized(sim);
    const secrets = oauth2Secret(sim, { ...tokens, refreshToken: 'revoked', expiresAt: new Date(Date.now() - 1).toISOString() });
    const err = await createXClient(secrets, { baseUrl: sim.url }).sendDm(person, 'oi').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XTokenRefreshError);
    expect((err as Error).message).toContain('npm run x -- authorize --tenant');
    expect(sim.dms).toEqual([]);
  });
});
