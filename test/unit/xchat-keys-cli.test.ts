import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSecretSource } from '../../functions/adapters/secrets';
import { companyXApi } from '../../functions/adapters/x-client';
import { xPublicKeySource } from '../../functions/adapters/xchat-keys';
import { PIN_UNLOCK_NOT_BUILT, runXChatKeys, xchatKeysCommand } from '../../cli/xchat-keys';
import { XChatPerson } from '../../simulators/x/chat-client';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';

const root = join(__dirname, '..', '..');

/** `npm run x -- xchat-keys`: the company's key blob checked against X's published keys, then stored. */
describe('npm run x -- xchat-keys', () => {
  let x: XApiSimulator;
  let secretsFile: string;
  beforeAll(async () => {
    x = await startXApiSimulator();
  });
  afterAll(() => x.close());
  beforeEach(() => {
    secretsFile = join(mkdtempSync(join(tmpdir(), 'xchat-keys-')), 'secrets.json');
    writeFileSync(secretsFile, JSON.stringify({ ...x.credentials }));
  });

  const stored = () => JSON.parse(readFileSync(secretsFile, 'utf8')) as { consumerKey?: string; xchat?: { keyBlob: string; publicKeyVersion: string } };

  async function run(keyBlob: string, tenant = { name: 'example', xAccountId: x.accountId, x: { xchat: true } }) {
    const lines: string[] = [];
    const secrets = fileSecretSource(secretsFile);
    const ok = await runXChatKeys({
      tenant: tenant as Parameters<typeof runXChatKeys>[0]['tenant'],
      keyBlob,
      publicKeys: xPublicKeySource(companyXApi(secrets, { baseUrl: x.url })),
      secrets,
      out: (line) => lines.push(line),
    });
    return { ok, output: lines.join('\n') };
  }

  it('stores a blob that holds the company account\'s keys, with the version X registered them under', async () => {
    const company = x.companyXChatKeys();
    const { ok, output } = await run(`${company.keyBlob}\n`);
    expect(ok).toBe(true);
    expect(stored().xchat).toEqual({ keyBlob: company.keyBlob, publicKeyVersion: company.publicKeyVersion });
    expect(stored().consumerKey).toBe(x.credentials.consumerKey);
    expect(output).toContain(`Stored the XChat keys of account ${x.accountId}`);
    expect(output).not.toContain(company.keyBlob);
  });

  it('refuses another account\'s blob with a clear message and stores nothing', async () => {
    const other = new XChatPerson('2900000000000000077', '1765000000001').keyBlob();
    const { ok, output } = await run(other);
    expect(ok).toBe(false);
    expect(output).toContain(`this key blob is not the XChat identity of account ${x.accountId}`);
    expect(output).toContain('Nothing stored');
    expect(output).not.toContain(other);
    expect(stored().xchat).toBeUndefined();
  });

  it.each([
    ['not base64', 'this is not a key blob!'],
    ['64 zero bytes', Buffer.alloc(64).toString('base64')],
    ['an identity key alone (32 bytes, cannot sign)', () => Buffer.from(new XChatPerson('2900000000000000078', '1').engine.exportKeys().subarray(0, 32)).toString('base64')],
  ])('refuses a malformed blob (%s)', async (_, blob) => {
    const { ok, output } = await run(typeof blob === 'string' ? blob : blob());
    expect(ok).toBe(false);
    expect(output).toMatch(/^Refused: (the key blob is not base64 text|chat-xdk cannot import it|the key blob holds no signing key)/);
    expect(stored().xchat).toBeUndefined();
  });

  it('refuses when X publishes no XChat keys for the tenant\'s account', async () => {
    const { ok, output } = await run(x.companyXChatKeys().keyBlob, { name: 'example', xAccountId: '2900000000000000079', x: { xchat: false } });
    expect(ok).toBe(false);
    expect(output).toContain('X publishes no XChat public keys for the account');
    expect(stored().xchat).toBeUndefined();
  });

  it('never takes the blob from the command line, and says why PIN unlock is not built', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    try {
      expect(await xchatKeysCommand({ tenant: 'example' })).toBe(1);
      expect(await xchatKeysCommand({ tenant: 'example', pin: true })).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(errors[0]).toContain('needs --key-file PATH');
    expect(errors[1]).toBe(PIN_UNLOCK_NOT_BUILT);
    expect(errors[1]).toContain('cannot be\ntested offline');
  });

  it('as a process: reads the blob from standard input, stores it, prints no key material', async () => {
    const company = x.companyXChatKeys();
    const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'cli/x.ts', 'xchat-keys', '--tenant', 'example', '--key-file', '-', '--secrets-file', secretsFile], {
      cwd: root,
      env: { PATH: process.env.PATH, X_API_BASE_URL: x.url, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdin.end(`${company.keyBlob}\n`);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(output).toContain(`Stored the XChat keys of account ${x.accountId}`);
    expect(code).toBe(0);
    expect(stored().xchat?.keyBlob).toBe(company.keyBlob);
    for (const form of [company.keyBlob, Buffer.from(company.keyBlob, 'base64').toString('hex')]) expect(output).not.toContain(form);
  }, 70_000);
});
