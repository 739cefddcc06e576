import '../support/test-env';
import { createCrcHandler } from '../../functions/crc/handler';
import { startHttpGateway, type HttpGateway } from '../../local/http-gateway';
import { runXCommand, twitterWebhookApi, type CommandContext, type CommandName } from '../../cli/x-commands';
import type { XKeys } from '../../cli/x-config';
import { startXApiSimulator, type XApiSimulator } from '../simulators/x-api';
import { testObservability } from '../support/observability';

/** The X webhook CLI against the X simulator, with the real CRC handler behind a local HTTP API. */
let x: XApiSimulator;
let bridge: HttpGateway;
let keys: XKeys;
/** The consumer secret the bridge's CRC handler answers with (a wrong one makes CRC fail). */
let bridgeSecret: string;

beforeAll(async () => {
  x = await startXApiSimulator();
  keys = { ...x.credentials };
  const secrets = { get: async () => ({ ...keys, consumerSecret: bridgeSecret }), invalidate: () => undefined };
  const crc = createCrcHandler({ ...testObservability(), secrets });
  bridge = await startHttpGateway({ routes: [{ method: 'GET', path: '/webhooks/twitter', handler: crc }] });
});

afterAll(async () => {
  await Promise.all([x.close(), bridge.close()]);
});

beforeEach(() => {
  x.reset();
  bridgeSecret = keys.consumerSecret;
});

async function run(command: CommandName, overrides: Partial<CommandContext> & { keys?: XKeys } = {}): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const k = overrides.keys ?? keys;
  const code = await runXCommand(command, {
    api: twitterWebhookApi(k, x.url),
    keys: k,
    tenant: 'example',
    xAccountId: x.accountId,
    webhookUrl: async () => `${bridge.url}/webhooks/twitter`,
    out: (line) => lines.push(line),
    ...overrides,
  });
  return { code, output: lines.join('\n') };
}

describe('npm run x', () => {
  it('registers the webhook: X runs CRC against the real handler and the webhook is valid', async () => {
    const { code, output } = await run('register');
    expect(code).toBe(0);
    expect(x.webhooks).toEqual([expect.objectContaining({ url: `${bridge.url}/webhooks/twitter`, valid: true })]);
    expect(x.crcAttempts).toEqual([expect.objectContaining({ ok: true })]);
    expect(output).toContain(`Registered: ${x.webhooks[0]!.id}`);
    expect(output).toContain('valid: yes');
  });

  it('register is idempotent: a second run reports the existing webhook', async () => {
    await run('register');
    const { code, output } = await run('register');
    expect(code).toBe(0);
    expect(x.webhooks).toHaveLength(1);
    expect(output).toContain('Already registered');
  });

  it('subscribes the company account, and status shows webhook, subscription and a passing CRC check', async () => {
    await run('register');
    const sub = await run('subscribe');
    expect(sub.code).toBe(0);
    expect([...(x.subscriptions.get(x.webhooks[0]!.id) ?? [])]).toEqual([x.accountId]);

    const status = await run('status');
    expect(status.code).toBe(0);
    expect(status.output).toContain(`${x.webhooks[0]!.id}  ${bridge.url}/webhooks/twitter  valid: yes`);
    expect(status.output).toContain(`Subscriptions of webhook ${x.webhooks[0]!.id}: ${x.accountId}`);
    expect(status.output).toMatch(/CRC check now .*: OK in \d+ ms/);
  });

  it('fetches the app bearer token with the consumer key and secret when none is configured', async () => {
    const { bearerToken: _none, ...withoutBearer } = keys;
    const { code } = await run('register', { keys: withoutBearer });
    expect(code).toBe(0);
    expect(x.requests.some((r) => r.path === '/oauth2/token' && r.status === 200)).toBe(true);
  });

  it('revalidate re-runs CRC, and unregister deletes the webhook', async () => {
    await run('register');
    const re = await run('revalidate');
    expect(re.code).toBe(0);
    expect(x.crcAttempts).toHaveLength(2);

    const un = await run('unregister');
    expect(un.code).toBe(0);
    expect(x.webhooks).toEqual([]);
  });

  it('explains a failing CRC check with X status, title and reason, and exits 1', async () => {
    bridgeSecret = 'a-different-consumer-secret';
    const { code, output } = await run('register');
    expect(code).toBe(1);
    expect(output).toContain('register failed: X API answered 400 Invalid Request');
    expect(output).toContain('Invalid CRC token');
    expect(x.webhooks).toEqual([]);
  });

  it('status reports a webhook X disabled and a CRC check that fails now', async () => {
    await run('register');
    bridgeSecret = 'rotated-on-one-side-only';
    await run('revalidate');
    const { code, output } = await run('status');
    expect(code).toBe(1);
    expect(output).toContain('valid: NO');
    expect(output).toContain('FAILED: wrong response_token');
  });

  it('explains wrong keys as a 401 and tells what to check', async () => {
    const { code, output } = await run('status', { keys: { ...keys, bearerToken: 'not-the-bearer-token' } });
    expect(code).toBe(1);
    expect(output).toMatch(/status failed: X API answered 401 Unauthorized.*check the keys/);
  });

  it('explains a rate limit with the time it lifts', async () => {
    await run('register');
    x.failNext(1, { status: 429, resetAt: 2_000_000_000 });
    const { code, output } = await run('subscribe');
    expect(code).toBe(1);
    expect(output).toContain('X API answered 429 Too Many Requests');
    expect(output).toContain(new Date(2_000_000_000_000).toISOString());
  });

  it('says so when the tenant has no webhook yet', async () => {
    const { code, output } = await run('subscribe');
    expect(code).toBe(1);
    expect(output).toContain('No webhook is registered for');
  });

  it('never prints a key, token or secret, whatever happens', async () => {
    const outputs: string[] = [];
    for (const command of ['register', 'subscribe', 'status', 'revalidate', 'unregister', 'unregister'] as const) outputs.push((await run(command)).output);
    bridgeSecret = 'wrong';
    outputs.push((await run('register')).output);
    outputs.push((await run('status', { keys: { ...keys, bearerToken: 'bad-bearer-token' } })).output);
    const all = outputs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const value of Object.values(keys)) expect(all).not.toContain(value);
    expect(all).not.toContain('bad-bearer-token');
  });
});
