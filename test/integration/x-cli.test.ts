import '../support/test-env';
import { createCrcHandler } from '../../functions/crc/handler';
import { startHttpGateway, type HttpGateway } from '../../local/http-gateway';
import { runXCommand, subscriptionTag, type CommandContext, type CommandName } from '../../cli/x-commands';
import { twitterWebhookApi } from '../../functions/adapters/x-webhooks';
import type { XKeys } from '../../cli/x-config';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';
import { testObservability } from '../support/observability';
import { crcSelfCheck } from '../../functions/adapters/crc-probe';

/**
 * The X webhook CLI against the X simulator, with the real CRC handler behind a local HTTP API. X
 * accepts only https URLs without a port: the tenant's URL is https://bridge.localhost/…, which the
 * simulator (and the CLI's own CRC check here) reach at the local gateway.
 */
const WEBHOOK_URL = 'https://bridge.localhost/webhooks/twitter';
let x: XApiSimulator;
let bridge: HttpGateway;
let keys: XApiSimulator['credentials'];
/** The consumer secret the bridge's CRC handler answers with (a wrong one makes CRC fail). */
let bridgeSecret: string;

beforeAll(async () => {
  x = await startXApiSimulator({ resolveWebhookUrl: local });
  keys = { ...x.credentials };
  const secrets = { get: async () => ({ ...keys, consumerSecret: bridgeSecret }), invalidate: () => undefined };
  const crc = createCrcHandler({ ...testObservability(), secrets });
  bridge = await startHttpGateway({ routes: [{ method: 'GET', path: '/webhooks/twitter', handler: crc }] });
});

afterAll(async () => {
  await Promise.all([x.close(), bridge.close()]);
});

/** Where the bridge really listens for the tenant's public URL. */
function local(url: string): string {
  return url.replace('https://bridge.localhost', bridge.url);
}

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
    webhookUrl: async () => WEBHOOK_URL,
    out: (line) => lines.push(line),
    crcCheck: (url, secret) => crcSelfCheck(local(url), secret),
    ...overrides,
  });
  return { code, output: lines.join('\n') };
}

describe('npm run x', () => {
  it('registers the webhook: X runs CRC against the real handler and the webhook is valid', async () => {
    const { code, output } = await run('register');
    expect(code).toBe(0);
    expect(x.webhooks).toEqual([expect.objectContaining({ url: WEBHOOK_URL, valid: true })]);
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
    const sub = await run('subscribe', { feedApi: 'aaa' });
    expect(sub.code).toBe(0);
    expect([...(x.subscriptions.get(x.webhooks[0]!.id) ?? [])]).toEqual([x.accountId]);

    const status = await run('status');
    expect(status.code).toBe(0);
    expect(status.output).toContain(`${x.webhooks[0]!.id}  ${WEBHOOK_URL}  valid: yes`);
    expect(status.output).toContain(`Account Activity API subscriptions of webhook ${x.webhooks[0]!.id}: ${x.accountId}`);
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

  it('register refuses http and port URLs before calling X', async () => {
    for (const url of ['http://bridge.example/webhooks/twitter', 'https://bridge.example:8443/webhooks/twitter']) {
      const { code, output } = await run('register', { webhookUrl: async () => url });
      expect(code).toBe(1);
      expect(output).toMatch(/^Not registering .*: X (accepts only https|does not accept a port)/);
    }
    expect(x.requests).toEqual([]);
  });

  it("says X's documented failure reasons in one line each, with what to do", async () => {
    await run('register');
    const { code, output } = await run('register', { webhookUrl: async () => 'https://other.localhost/webhooks/twitter' });
    expect(code).toBe(1);
    expect(output).toContain('register failed: X API answered 400 Invalid Request');
    expect(output).toContain('WebhookLimitExceeded: ');
    expect(output).toContain('unregister one it no longer needs');
    expect(output.split('\n').filter((l) => l.startsWith('register failed'))).toHaveLength(1);
  });

  it('subscribe (Account Activity API) twice: success both times, the second says already subscribed', async () => {
    await run('register');
    const first = await run('subscribe', { feedApi: 'aaa' });
    const second = await run('subscribe', { feedApi: 'aaa' });
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(second.output).toContain('Already subscribed');
    expect([...(x.subscriptions.get(x.webhooks[0]!.id) ?? [])]).toEqual([x.accountId]);
  });

  it("treats X's DuplicateSubscriptionFailed as success", async () => {
    await run('register');
    await run('subscribe', { feedApi: 'xaa' });
    const api = twitterWebhookApi(keys, x.url);
    // A listing that missed the subscription: X's own answer must still count as "already subscribed".
    const stale = { ...api, listActivitySubscriptions: async () => [], listSubscriptions: async () => [] };
    const xaa = await run('subscribe', { feedApi: 'xaa', api: stale });
    expect(xaa.code).toBe(0);
    expect(xaa.output).toContain('Already subscribed: X says dm.received');
    const aaa = await run('subscribe', { feedApi: 'aaa' });
    const again = await run('subscribe', { feedApi: 'aaa', api: stale });
    expect([aaa.code, again.code]).toEqual([0, 0]);
    expect(again.output).toContain('Already subscribed: X says account');
  });

  it('subscribe without --api uses the X Activity API (X delivers legacy DMs through it and is deprecating the AAA)', async () => {
    await run('register');
    expect((await run('subscribe')).code).toBe(0);
    expect(x.activitySubscriptions.map((a) => a.event_type)).toContain('dm.received');
    expect(x.subscriptions.get(x.webhooks[0]!.id)?.size ?? 0).toBe(0);
  });

  it('subscribe --api xaa subscribes dm.received of the account (plus chat.received and oauth.revoke) with the tenant tag, idempotently', async () => {
    await run('register');
    const first = await run('subscribe', { feedApi: 'xaa' });
    const second = await run('subscribe', { feedApi: 'xaa' });
    expect([first.code, second.code]).toEqual([0, 0]);
    const hookId = x.webhooks[0]!.id;
    expect(x.activitySubscriptions.map((a) => [a.event_type, a.filter.user_id, a.webhook_id, a.tag])).toEqual([
      ['dm.received', x.accountId, hookId, subscriptionTag('example')],
      ['chat.received', x.accountId, hookId, subscriptionTag('example')],
      ['oauth.revoke', undefined, hookId, subscriptionTag('example')],
    ]);
    expect(second.output.match(/Already subscribed/g)).toHaveLength(3);
    // Created with the account's user context (private events), as X requires.
    expect(x.requests.filter((r) => r.path === '/2/activity/subscriptions' && r.method === 'POST').map((r) => r.status)).toEqual([200, 200, 200]);

    const status = await run('status');
    expect(status.code).toBe(0);
    expect(status.output).toContain(`X Activity API subscriptions of webhook ${hookId}`);
    expect(status.output).toMatch(new RegExp(`\\d+  dm\\.received  user ${x.accountId}  tag 4biz-twitter-dm:example`));
    expect(status.output).toContain('valid: yes');

    const un = await run('unsubscribe', { feedApi: 'xaa' });
    expect(un.code).toBe(0);
    expect(x.activitySubscriptions).toEqual([]);
  });

  it('unsubscribe --api aaa removes the account, and says so when it was not subscribed', async () => {
    await run('register');
    await run('subscribe');
    expect((await run('unsubscribe', { feedApi: 'aaa' })).code).toBe(0);
    expect(x.subscriptions.get(x.webhooks[0]!.id)?.size ?? 0).toBe(0);
    const again = await run('unsubscribe', { feedApi: 'aaa' });
    expect(again.code).toBe(0);
    expect(again.output).toContain('Not subscribed');
  });

  it("revalidate on a webhook whose CRC fails says FAILED from X's {data: {valid: false}} and exits 1", async () => {
    await run('register');
    bridgeSecret = 'rotated-on-one-side-only';
    const { code, output } = await run('revalidate');
    expect(code).toBe(1);
    expect(output).toContain('FAILED');
    expect(output).not.toContain('CRC check passed');
    expect(x.webhooks[0]!.valid).toBe(false);
    bridgeSecret = keys.consumerSecret;
    const back = await run('revalidate');
    expect(back.code).toBe(0);
    expect(back.output).toContain('CRC check passed');
  });

  it('replay asks X for the window and prints the job id; X re-delivers the window to the webhook', async () => {
    await run('register');
    await run('subscribe', { feedApi: 'xaa' });
    x.setWebhookValid(x.webhooks[0]!.id, false);
    const { eventId } = await x.receiveDm({ senderId: '2900000000000000077', username: 'joao_pereira', name: 'João', text: 'perdida' });
    x.setWebhookValid(x.webhooks[0]!.id, true);
    // X replays a window only once its end is 10 minutes old: the CLI asks as if 11 minutes had passed.
    const now = Date.now();
    const { code, output } = await run('replay', { now: () => now + 11 * 60_000, replayFrom: new Date(now - 3600_000).toISOString(), replayTo: new Date(now).toISOString() });
    expect(code).toBe(0);
    const job = x.replayJobs[0]!;
    expect(output).toContain(`Replay job ${job.jobId} created`);
    await job.done;
    const replayed = x.deliveries.filter((d) => d.replayJobId === job.jobId);
    expect(replayed.map((d) => JSON.parse(d.body.toString()).data?.payload?.direct_message_events?.[0]?.id ?? 'status')).toEqual([eventId, 'status']);
  });

  it.each([
    ['older than 24 h', -25 * 3600_000, -3600_000, "24 h replay limit"],
    ['ending in the future', -3600_000, 3600_000, 'less than 10 minutes ago'],
    ['starting less than 31 minutes ago', -20 * 60_000, -10 * 60_000, 'less than 31 minutes ago'],
    ['backwards', -3600_000, -7200_000, 'from must be before to'],
  ])('replay refuses a window %s without calling X', async (_what, fromOffset, toOffset, message) => {
    const now = Date.now();
    const { code, output } = await run('replay', { now: () => now, replayFrom: new Date(now + fromOffset).toISOString(), replayTo: new Date(now + toOffset).toISOString() });
    expect(code).toBe(1);
    expect(output).toContain(message);
    expect(x.requests).toEqual([]);
  });

  it('unregister reports what X answered', async () => {
    await run('register');
    const { output } = await run('unregister');
    expect(output).toContain('X answered deleted: true');
  });

  it('subscribe --api xaa succeeds with the DMs when X refuses an optional event type, and says which', async () => {
    await run('register');
    const api = twitterWebhookApi(keys, x.url);
    const noXChat = {
      ...api,
      createActivitySubscription: async (r: Parameters<typeof api.createActivitySubscription>[0]) => {
        if (r.eventType === 'chat.received') await api.createActivitySubscription({ ...r, eventType: 'no.such.event' });
        return api.createActivitySubscription(r);
      },
    };
    const { code, output } = await run('subscribe', { feedApi: 'xaa', api: noXChat });
    expect(code).toBe(0);
    expect(output).toMatch(/Not subscribed to chat\.received \(X API answered 400 .*\): DMs still arrive/);
    expect(x.activitySubscriptions.map((a) => a.event_type)).toEqual(['dm.received', 'oauth.revoke']);
  });

  it('subscribe --api xaa fails clearly when X refuses the DMs themselves', async () => {
    await run('register');
    x.failNext(1, { status: 503 });
    const api = twitterWebhookApi(keys, x.url);
    const listed = { ...api, listWebhooks: async () => x.webhooks.map((w) => ({ ...w })), listActivitySubscriptions: async () => [] };
    const { code, output } = await run('subscribe', { feedApi: 'xaa', api: listed });
    expect(code).toBe(1);
    expect(output).toContain('subscribe failed: X API answered 503');
    expect(x.activitySubscriptions).toEqual([]);
  });

  it('subscribe with OAuth 1.0a where X demands OAuth 2.0 (the simulator switch): says to run authorize', async () => {
    await run('register');
    x.switches.oauth1ForPrivateEvents = 'refused';
    const { code, output } = await run('subscribe', { feedApi: 'xaa' });
    expect(code).toBe(1);
    expect(output).toContain(
      'subscribe failed: X API answered 403 Forbidden: dm.received is a private event: X requires OAuth 2.0 user context (the user must authorize the app with OAuth 2.0) (X wants the other kind of user context here: for OAuth 2.0 run npm run x -- authorize --tenant NAME; to go back to OAuth 1.0a set userAuth "oauth1a" in the tenant secret)',
    );
    expect(x.activitySubscriptions).toEqual([]);
  });
});
