import { checkXChatKeys } from '../../cli/doctor-xchat';
import { staticSecretSource } from '../../functions/adapters/secrets';
import { companyXApi } from '../../functions/adapters/x-client';
import { xPublicKeySource } from '../../functions/adapters/xchat-keys';
import type { TenantSecret } from '../../functions/config';
import { XChatPerson } from '../../simulators/x/chat-client';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';

/** `npm run doctor`'s xchat-keys check against the X simulator's published keys of the company. */
describe('npm run doctor: xchat-keys', () => {
  let x: XApiSimulator;
  beforeAll(async () => {
    x = await startXApiSimulator();
  });
  afterAll(() => x.close());

  async function check(xchat: TenantSecret['xchat'], baseUrl = x.url) {
    const secret: TenantSecret = { ...x.credentials, ...(xchat ? { xchat } : {}) };
    const publicKeys = xPublicKeySource(companyXApi(staticSecretSource(secret), { baseUrl, timeoutMs: 2_000 }));
    return checkXChatKeys({ name: 'acme', xAccountId: x.accountId }, secret, publicKeys);
  }
  const fixCommand = 'npm run x -- xchat-keys --tenant acme --key-file PATH';

  it('OK when the stored blob is the identity X publishes for the account, under X\'s version', async () => {
    const keys = x.companyXChatKeys();
    const result = await check(keys);
    expect(result).toEqual({ name: 'xchat-keys', ok: true, detail: `the key blob imports and is the XChat identity X publishes for account ${x.accountId} (key version ${keys.publicKeyVersion})` });
    expect(JSON.stringify(result)).not.toContain(keys.keyBlob);
  });

  it('fails with the fix command when the secret has no keys', async () => {
    const result = await check(undefined);
    expect(result.ok).toBe(false);
    expect(result.detail).toContain('no XChat keys (field xchat)');
    expect(result.fix).toContain(fixCommand);
  });

  it('fails when the stored blob is another account\'s, printing none of it', async () => {
    const other = new XChatPerson('2900000000000000077', '1765000000001').keyBlob();
    const result = await check({ keyBlob: other, publicKeyVersion: '1765000000001' });
    expect(result).toMatchObject({ ok: false, detail: expect.stringContaining('belongs to this key blob'), fix: expect.stringContaining(fixCommand) });
    expect(JSON.stringify(result)).not.toContain(other);
  });

  it('fails when the stored blob does not import', async () => {
    const result = await check({ keyBlob: Buffer.alloc(64).toString('base64'), publicKeyVersion: '1765000000000' });
    expect(result).toMatchObject({ ok: false, detail: expect.stringContaining('chat-xdk cannot import it'), fix: expect.stringContaining(fixCommand) });
  });

  it('fails when the secret names another key version than X registered', async () => {
    const keys = x.companyXChatKeys();
    const result = await check({ ...keys, publicKeyVersion: '1' });
    expect(result).toMatchObject({ ok: false, detail: `the secret names key version 1, X registered these keys under ${keys.publicKeyVersion}: answers would name the wrong signing key` });
  });

  it('fails, naming the credentials, when X cannot be read', async () => {
    const result = await check(x.companyXChatKeys(), 'http://127.0.0.1:9');
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^cannot read X's XChat public keys of account/);
    expect(result.fix).toContain('check the X credentials');
  });
});
