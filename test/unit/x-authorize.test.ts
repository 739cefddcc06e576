import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAuthorize } from '../../cli/x-authorize';
import { fileSecretSource } from '../../functions/adapters/secrets';
import { createXClient } from '../../functions/adapters/x-client';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';

/** The account approving in its browser: X redirects it to the loopback callback. */
const approveIn = (sim: XApiSimulator) => (link: string) => {
  void (async () => {
    const approved = await fetch(`${sim.url}/i/oauth2/authorize${new URL(link).search}`, { redirect: 'manual' });
    await fetch(approved.headers.get('location')!);
  })();
};

describe('npm run x -- authorize (OAuth 2.0 authorization code with PKCE, loopback redirect)', () => {
  let sim: XApiSimulator;
  let file: string;
  beforeEach(async () => {
    sim = await startXApiSimulator();
    file = join(await mkdtemp(join(tmpdir(), 'authorize-')), 'secrets.json');
    const { consumerKey, consumerSecret, accessToken, accessTokenSecret } = sim.credentials;
    await writeFile(file, JSON.stringify({ consumerKey, consumerSecret, accessToken, accessTokenSecret, fourbizUser: 'kept' }));
  });
  afterEach(() => sim.close());

  const run = (over: Partial<Parameters<typeof runAuthorize>[0]> = {}) => {
    const lines: string[] = [];
    const done = runAuthorize({
      tenant: 'example',
      xAccountId: sim.accountId,
      ...sim.oauth2Client,
      apiBaseUrl: sim.url,
      authorizeUrl: `${sim.url}/i/oauth2/authorize`,
      port: 0,
      secrets: fileSecretSource(file),
      out: (l) => lines.push(l),
      open: approveIn(sim),
      ...over,
    });
    return done.then((ok) => ({ ok, output: lines.join('\n') }));
  };

  it('stores the tokens with userAuth "oauth2" (other fields kept), and the bridge then sends with them', async () => {
    const { ok, output } = await run();
    expect(ok).toBe(true);
    expect(output).toContain('dm.read');
    const stored = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown> & { oauth2: Record<string, string> };
    expect(stored).toMatchObject({ userAuth: 'oauth2', fourbizUser: 'kept', oauth2: { clientId: sim.oauth2Client.clientId } });
    expect(stored.oauth2.scope.split(' ').sort()).toEqual(['dm.read', 'dm.write', 'offline.access', 'tweet.read', 'users.read']);
    // Never printed.
    expect(output).not.toContain(stored.oauth2.accessToken);
    expect(output).not.toContain(stored.oauth2.refreshToken);

    await createXClient(fileSecretSource(file), { baseUrl: sim.url }).sendDm('2900000000000000042', 'oi');
    expect(sim.dms).toHaveLength(1);
  });

  it('refuses to store the tokens of another account than the tenant\'s (someone approved signed in as themselves)', async () => {
    const before = await readFile(file, 'utf8');
    sim.oauth2ApproveAs({ id: '2900000000000000077', username: 'maria_pessoal', name: 'Maria' });
    const { ok, output } = await run();
    expect(ok).toBe(false);
    expect(output).toContain(
      `The X account @maria_pessoal (id 2900000000000000077) approved, but tenant example is the X account ${sim.accountId} (xAccountId in tenants/example.json): nothing stored. Log in to X as the company account (log out of @maria_pessoal first, or use a private browser window), then run npm run x -- authorize --tenant example again.`,
    );
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(sim.requests.map((r) => `${r.path} ${r.status}`)).toContain('/2/users/me 200');
  });

  it('stores the tokens of the tenant\'s own account, checked with GET /2/users/me', async () => {
    const { ok, output } = await run();
    expect(ok).toBe(true);
    expect(output).toContain('Stored OAuth 2.0 tokens of @empresa');
    expect(sim.requests.filter((r) => r.path === '/2/users/me').map((r) => r.status)).toEqual([200]);
  });

  it('stores nothing when X does not say who approved', async () => {
    const before = await readFile(file, 'utf8');
    sim.script('GET /2/users/me', { status: 503 });
    const { ok, output } = await run();
    expect(ok).toBe(false);
    expect(output).toMatch(/X did not say which account approved \(GET \/2\/users\/me: X API answered 503.*nothing stored/);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('stores nothing when the redirect does not carry the request\'s state (another request\'s code)', async () => {
    const before = await readFile(file, 'utf8');
    const { ok, output } = await run({
      open: (link) => {
        const callback = new URL(link).searchParams.get('redirect_uri')!;
        void fetch(`${callback}?state=forged&code=abc`);
      },
    });
    expect(ok).toBe(false);
    expect(output).toContain('state');
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('says what X refused: a wrong client secret', async () => {
    const { ok, output } = await run({ clientSecret: 'wrong' });
    expect(ok).toBe(false);
    expect(output).toMatch(/X refused the authorization code/);
  });
});
