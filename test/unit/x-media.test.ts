import { staticSecretSource, type WritableSecretSource } from '../../functions/adapters/secrets';
import { createXMediaDownloader } from '../../functions/adapters/x-media';
import type { LeaseStore } from '../../functions/core/lease';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';
import { OAuth1Helper } from 'twitter-api-v2/dist/cjs/client-mixins/oauth1.helper';

/**
 * Issue 18 §4: DM media downloads with the tenant's chosen user context. OAuth 2.0 tenants use X's
 * v2 route `GET /2/dm_conversations/media/:dm_id/:media_id/:resource_id` with their bearer token
 * (refreshed and stored first when due); OAuth 1.0a tenants sign the ton.twitter.com URL as before.
 * Refusals say which command fixes them.
 */
const TON = 'https://ton.twitter.com/1.1/ton/data/dm/1870000000000000001/1870000000000000002/aB3_x-9.jpg';
const PATH = new URL(TON).pathname;
const V2_PATH = '/2/dm_conversations/media/1870000000000000001/1870000000000000002/aB3_x-9.jpg';

function memoryLeases(): LeaseStore & { taken: number } {
  const held = new Map<string, string>();
  const leases = {
    taken: 0,
    async tryAcquire(name: string, holder: string) {
      if (held.has(name) && held.get(name) !== holder) return false;
      held.set(name, holder);
      leases.taken++;
      return true;
    },
    async release(name: string, holder: string) {
      if (held.get(name) === holder) held.delete(name);
    },
  };
  return leases;
}

describe('DM media with the tenant\'s user context', () => {
  let sim: XApiSimulator;
  beforeAll(async () => {
    sim = await startXApiSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  /** An OAuth 2.0 tenant without OAuth 1.0a keys; `expiresInMs` < 5 min means the token is due for refresh. */
  async function oauth2Tenant(expiresInMs = 3_600_000): Promise<WritableSecretSource & { writes: number }> {
    // A refresh token the simulator knows: got through its token endpoint, as authorize would.
    const { clientId, clientSecret } = sim.oauth2Client;
    const approve = await fetch(`${sim.url}/i/oauth2/authorize?response_type=code&client_id=${clientId}&redirect_uri=http://127.0.0.1:9/cb&scope=dm.read%20tweet.read%20users.read%20offline.access&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256`, { redirect: 'manual' });
    const code = new URL(approve.headers.get('location')!).searchParams.get('code')!;
    const res = await fetch(`${sim.url}/2/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', redirect_uri: 'http://127.0.0.1:9/cb' }).toString(),
    });
    const t = (await res.json()) as { access_token: string; refresh_token: string };
    const inner = staticSecretSource({
      consumerKey: sim.credentials.consumerKey,
      consumerSecret: sim.credentials.consumerSecret,
      userAuth: 'oauth2',
      oauth2: { clientId, clientSecret, accessToken: t.access_token, refreshToken: t.refresh_token, expiresAt: new Date(Date.now() + expiresInMs).toISOString() },
    });
    const source = { writes: 0, get: inner.get, invalidate: inner.invalidate, update: async (f: Parameters<typeof inner.update>[0]) => (source.writes++, inner.update(f)) };
    return source;
  }

  it('OAuth 2.0: downloads through X\'s v2 route with the bearer token, the same bytes, no ton.twitter.com request', async () => {
    sim.setMedia(PATH, Buffer.from('the photo'), 'image/jpeg');
    const secrets = await oauth2Tenant();
    sim.requests.length = 0;
    const got = await createXMediaDownloader(secrets, { baseUrl: sim.url }).download(TON, 1000);
    expect(got).toEqual({ ok: true, media: { bytes: Buffer.from('the photo'), contentType: 'application/octet-stream' } });
    expect(sim.mediaServed).toEqual([{ path: PATH, bytes: Buffer.from('the photo'), route: 'v2' }]);
    expect(sim.requests.map((r) => `${r.path} ${r.status}`)).toEqual([`${V2_PATH} 200`]);
  });

  it('OAuth 2.0: a token due for refresh is refreshed under the lease and stored before the download uses it', async () => {
    const secrets = await oauth2Tenant(60_000);
    const leases = memoryLeases();
    const got = await createXMediaDownloader(secrets, { baseUrl: sim.url, leases }).download(TON, 1000);
    expect(got.ok).toBe(true);
    expect(sim.oauth2Grants.filter((g) => g.grantType === 'refresh_token')).toEqual([{ grantType: 'refresh_token', ok: true }]);
    expect(secrets.writes).toBe(1);
    expect(leases.taken).toBe(1);
    expect(sim.mediaServed.map((m) => m.route)).toEqual(['v2']);
  });

  it('OAuth 2.0: a token X refuses (401) is refreshed and the download tried once more', async () => {
    const secrets = await oauth2Tenant();
    sim.expireOAuth2AccessTokens();
    sim.requests.length = 0;
    const got = await createXMediaDownloader(secrets, { baseUrl: sim.url }).download(TON, 1000);
    expect(got.ok).toBe(true);
    expect(sim.requests.map((r) => `${r.path} ${r.status}`)).toEqual([`${V2_PATH} 401`, '/2/oauth2/token 200', `${V2_PATH} 200`]);
  });

  it('OAuth 2.0 refusals name the command that fixes them; a refused refresh names it too', async () => {
    const secrets = await oauth2Tenant();
    const downloader = createXMediaDownloader(secrets, { baseUrl: sim.url });
    sim.script('media', { status: 403, plain: true });
    expect(await downloader.download(TON, 1000)).toEqual({ ok: false, reason: expect.stringMatching(/^X answered HTTP 403: X refused the company account's OAuth 2\.0 token for DM media .*: run npm run x -- authorize --tenant NAME$/) });
    sim.script('media', { status: 403, problem: 'unsupported-authentication' });
    expect(await downloader.download(TON, 1000)).toEqual({ ok: false, reason: expect.stringMatching(/X wants the other kind of user context here: for OAuth 2\.0 run npm run x -- authorize --tenant NAME/) });

    const revoked = staticSecretSource({ ...(await secrets.get()), oauth2: { ...(await secrets.get()).oauth2!, refreshToken: 'revoked', expiresAt: new Date(Date.now() - 1).toISOString() } });
    expect(await createXMediaDownloader(revoked, { baseUrl: sim.url }).download(TON, 1000)).toEqual({ ok: false, reason: expect.stringMatching(/X refused to refresh the OAuth 2\.0 token .*run npm run x -- authorize --tenant NAME/) });
    expect(sim.mediaServed).toEqual([]);
  });

  it('OAuth 2.0: only X\'s DM media paths map to the v2 route; the size cap holds there too', async () => {
    const downloader = createXMediaDownloader(await oauth2Tenant(), { baseUrl: sim.url });
    expect(await downloader.download('https://ton.twitter.com/1.1/ton/data/dm/1/2/../../x', 1000)).toMatchObject({ ok: false, reason: expect.stringMatching(/not a DM media path X's v2 media route serves/) });
    sim.setMedia(PATH, Buffer.alloc(2_000), 'image/jpeg');
    expect(await downloader.download(TON, 1000)).toEqual({ ok: false, reason: '2000 bytes, over the 1000-byte cap' });
  });

  it('OAuth 1.0a: signs the ton.twitter.com URL as before', async () => {
    sim.setMedia(PATH, Buffer.from('the photo'), 'image/jpeg');
    const got = await createXMediaDownloader(staticSecretSource({ ...sim.credentials }), { baseUrl: sim.url }).download(TON, 1000);
    expect(got).toEqual({ ok: true, media: { bytes: Buffer.from('the photo'), contentType: 'image/jpeg' } });
    expect(sim.mediaServed.map((m) => m.route)).toEqual(['ton']);
  });

  it('the simulator holds both routes to X\'s rules: v2 refuses OAuth 1.0a (403 unsupported-authentication), ton.twitter.com a bearer token', async () => {
    const { consumerKey, consumerSecret, accessToken, accessTokenSecret } = sim.credentials;
    const url = `${sim.url}${V2_PATH}`;
    const oauth = new OAuth1Helper({ consumerKeys: { key: consumerKey, secret: consumerSecret } });
    const signed = await fetch(url, { headers: oauth.toHeader(oauth.authorize({ url, method: 'GET' }, { key: accessToken, secret: accessTokenSecret })) });
    expect(signed.status).toBe(403);
    expect(await signed.json()).toMatchObject({ title: 'Unsupported Authentication', type: 'https://api.twitter.com/2/problems/unsupported-authentication' });
    sim.oauth2UserTokens.add('media-bearer');
    const bearer = await fetch(`${sim.url}${PATH}`, { headers: { authorization: 'Bearer media-bearer' } });
    expect(bearer.status).toBe(401);
    expect(sim.mediaServed).toEqual([]);
  });
});
