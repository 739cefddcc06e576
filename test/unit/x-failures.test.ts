import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createXClient } from '../../functions/adapters/x-client';
import { createDmEventsSource } from '../../functions/adapters/x-dm-events';
import { describeXError, twitterWebhookApi } from '../../functions/adapters/x-webhooks';
import { RecipientRefusedError, XAuthError, XCapReachedError, XCreditsDepletedError, XOutcomeUnknownError } from '../../functions/adapters/x-errors';
import type { SecretSource } from '../../functions/adapters/secrets';
import { PermanentError, TransientError, WaitingError } from '../../functions/core/errors';

/**
 * X's failures by their type, answered byte for byte as X documents them (response-codes page,
 * rate-limit page, the 402 seen in third-party logs) by a bare HTTP server: what the sender's
 * failure policy gets from each.
 */
type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang';

let server: Server;
let url: string;
let answers: Answer[] = [];
const requests: Array<{ method?: string; url?: string }> = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method, url: req.url });
    req.resume();
    const answer = answers.shift() ?? { status: 201, body: { data: { dm_conversation_id: 'c', dm_event_id: '1' } } };
    if (answer === 'hang') return; // never answers
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  answers = [];
  requests.length = 0;
});

const person = '2900000000000000042';
const now = 1_700_000_000_000;

function secrets(): SecretSource & { invalidations: number } {
  const source = {
    invalidations: 0,
    get: async () => ({ consumerKey: 'ck', consumerSecret: 'cs', accessToken: '1-at', accessTokenSecret: 'ats' }),
    invalidate: () => {
      source.invalidations++;
    },
  };
  return source;
}

async function sendFailure(answer: Answer, source = secrets(), timeoutMs = 2_000): Promise<unknown> {
  answers.push(answer);
  return createXClient(source, { baseUrl: url, now: () => now, timeoutMs })
    .sendDm(person, 'oi')
    .then(() => undefined, (e: unknown) => e);
}

const problem = (status: number, title: string, detail: string, type = 'about:blank', extra: Record<string, unknown> = {}) => ({ title, detail, type, status, ...extra });

describe('X failures by their type', () => {
  it('402 CreditsDepleted is a wait, never a verdict on the reply', async () => {
    const err = await sendFailure({ status: 402, body: problem(402, 'CreditsDepleted', 'Your enrolled account does not have any credits to fulfill this request.', 'https://api.twitter.com/2/problems/credits-depleted') });
    expect(err).toBeInstanceOf(XCreditsDepletedError);
    expect(err).toBeInstanceOf(WaitingError);
    expect(err).not.toBeInstanceOf(PermanentError);
  });

  it('the daily DM caps wait until the reset X announces, per user or per app', async () => {
    const reset = Math.floor(now / 1000) + 5 * 3600;
    const user = await sendFailure({ status: 429, body: problem(429, 'Too Many Requests', 'Too Many Requests'), headers: { 'x-user-limit-24hour-limit': '1440', 'x-user-limit-24hour-remaining': '0', 'x-user-limit-24hour-reset': String(reset) } });
    expect(user).toBeInstanceOf(XCapReachedError);
    expect((user as TransientError).retryAt).toBe(reset * 1000);
    expect((user as Error).message).toContain('(user)');
    const app = await sendFailure({ status: 429, body: {}, headers: { 'x-app-limit-24hour-limit': '1440', 'x-app-limit-24hour-remaining': '0', 'x-app-limit-24hour-reset': String(reset + 60), 'x-rate-limit-reset': String(reset - 3600) } });
    expect(app).toBeInstanceOf(XCapReachedError);
    expect((app as TransientError).retryAt).toBe((reset + 60) * 1000);
  });

  it('a cap with requests left is not the cap: a 429 then is the 15-minute limit with its own reset', async () => {
    const reset = Math.floor(now / 1000) + 600;
    const err = await sendFailure({ status: 429, body: {}, headers: { 'x-user-limit-24hour-remaining': '900', 'x-user-limit-24hour-reset': String(reset + 9999), 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) } });
    expect(err).not.toBeInstanceOf(XCapReachedError);
    expect((err as TransientError).retryAt).toBe(reset * 1000);
  });

  it('a usage-capped 429 waits (at x-rate-limit-reset when given, else with back-off) and is never dead-lettered', async () => {
    const body = problem(429, 'UsageCapExceeded', 'Usage cap exceeded: Monthly product cap', 'https://api.twitter.com/2/problems/usage-capped', { period: 'Monthly', scope: 'Product' });
    const withReset = await sendFailure({ status: 429, body, headers: { 'x-rate-limit-reset': String(Math.floor(now / 1000) + 60) } });
    expect(withReset).toBeInstanceOf(XCapReachedError);
    expect((withReset as TransientError).retryAt).toBe(now + 60_000);
    const without = await sendFailure({ status: 429, body });
    expect(without).toBeInstanceOf(XCapReachedError);
    expect((without as TransientError).retryAt).toBeUndefined();
  });

  it('a 403 is the person refusing DMs only with X\'s markers (error 349/150, their messages)', async () => {
    const refusals: Answer[] = [
      { status: 403, body: problem(403, 'Forbidden', 'You cannot send messages to this user.') },
      { status: 403, body: { errors: [{ code: 349, message: 'You cannot send messages to this user.' }] } },
      { status: 403, body: { errors: [{ code: 150, message: 'You cannot send messages to users who are not following you.' }] } },
    ];
    for (const answer of refusals) expect(await sendFailure(answer)).toBeInstanceOf(RecipientRefusedError);
  });

  it('any other 403 is the keys\' or the app\'s problem: XAuthFailure and a fresh read of the secret, never the reply\'s fault', async () => {
    const others: Answer[] = [
      { status: 403, body: problem(403, 'Forbidden', 'Forbidden.') },
      { status: 403, body: problem(403, 'Forbidden', 'Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.', 'https://api.twitter.com/2/problems/oauth1-permissions') },
      { status: 403, body: problem(403, 'Unsupported Authentication', 'Authenticating with OAuth 1.0a User Context is forbidden for this endpoint.', 'https://api.twitter.com/2/problems/unsupported-authentication') },
      { status: 403, body: '<html>Forbidden</html>' },
    ];
    for (const answer of others) {
      const source = secrets();
      const err = await sendFailure(answer, source);
      expect(err).toBeInstanceOf(XAuthError);
      expect(err).toBeInstanceOf(TransientError);
      expect(source.invalidations).toBe(1);
    }
  });

  it('an X that never answers is given up within the deadline, as an unknown outcome (X may have stored the DM)', async () => {
    const started = Date.now();
    const err = await sendFailure('hang', secrets(), 300);
    expect(err).toBeInstanceOf(XOutcomeUnknownError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a 5xx is an unknown outcome too; a 400 is the reply\'s own problem', async () => {
    expect(await sendFailure({ status: 503, body: problem(503, 'Service Unavailable', 'Service Unavailable') })).toBeInstanceOf(XOutcomeUnknownError);
    expect(await sendFailure({ status: 400, body: problem(400, 'Invalid Request', 'One or more parameters to your request was invalid.') })).toBeInstanceOf(PermanentError);
  });
});

describe('the look before a repeated send', () => {
  const x = () => createXClient(secrets(), { baseUrl: url, now: () => now });
  const events = (data: unknown[]) => ({ status: 200, body: { data, meta: { result_count: data.length } } });

  it('reads a few of the conversation\'s latest events (each is billed) and finds the DM the account sent', async () => {
    answers.push(
      events([
        { id: '30', text: 'obrigado!', sender_id: person, event_type: 'MessageCreate', created_at: '2023-11-14T22:15:00.000Z' },
        { id: '29', text: 'Veja https://t.co/abc  o protocolo', sender_id: '1400000000000000001', event_type: 'MessageCreate', created_at: '2023-11-14T22:14:00.000Z' },
      ]),
    );
    const found = await x().findSentDm(person, 'Veja https://4biz.example/p/1 o protocolo', now - 60_000);
    expect(found).toEqual({ dmEventId: '29' });
    expect(requests).toHaveLength(1);
    const asked = new URL(requests[0]!.url!, url);
    expect(asked.pathname).toBe(`/2/dm_conversations/with/${person}/dm_events`);
    expect(Number(asked.searchParams.get('max_results'))).toBeLessThanOrEqual(5);
  });

  it('does not take the person\'s own DM, an older DM with the same text, or an unreadable answer for ours', async () => {
    answers.push(events([{ id: '30', text: 'oi', sender_id: person, created_at: '2023-11-14T22:15:00.000Z' }]));
    expect(await x().findSentDm(person, 'oi', now - 60_000)).toBeUndefined();
    answers.push(events([{ id: '20', text: 'oi', sender_id: '1400000000000000001', created_at: '2023-11-14T20:00:00.000Z' }]));
    expect(await x().findSentDm(person, 'oi', now - 60_000)).toBeUndefined();
    answers.push({ status: 200, body: { data: 'nonsense' } });
    expect(await x().findSentDm(person, 'oi', now - 60_000)).toBeUndefined();
  });
});

describe('the CLI names the command that fixes a refused kind of user context', () => {
  const keys = { consumerKey: 'ck', consumerSecret: 'cs', accessToken: '1-at', accessTokenSecret: 'ats', bearerToken: 'app' };

  it('OAuth 1.0a refused where X wants OAuth 2.0: run authorize', async () => {
    answers.push({ status: 403, body: problem(403, 'Unsupported Authentication', 'Authenticating with OAuth 1.0a User Context is forbidden for this endpoint.  Supported authentication types are [OAuth 2.0 User Context].', 'https://api.twitter.com/2/problems/unsupported-authentication') });
    const err = await twitterWebhookApi(keys, url).createActivitySubscription({ eventType: 'dm.received', userId: '1', webhookId: '2', tag: 't' }).catch((e: unknown) => e);
    expect(describeXError(err)).toContain('npm run x -- authorize --tenant NAME');
  });

  it('the same refusal when sending or looking up DMs says it in the error the sender and dm-poller log', async () => {
    const refusal = problem(403, 'Unsupported Authentication', 'Authenticating with OAuth 1.0a User Context is forbidden for this endpoint.  Supported authentication types are [OAuth 2.0 User Context].', 'https://api.twitter.com/2/problems/unsupported-authentication');
    const sent = await sendFailure({ status: 403, body: refusal });
    expect(sent).toBeInstanceOf(XAuthError);
    expect((sent as Error).message).toMatch(/X wants the other kind of user context here: for OAuth 2\.0 run npm run x -- authorize --tenant NAME; to go back to OAuth 1\.0a set userAuth "oauth1a"/);
    answers.push({ status: 403, body: refusal });
    const looked = await createDmEventsSource(secrets(), { baseUrl: url }).page(undefined, 10).catch((e: unknown) => e);
    expect(looked).toBeInstanceOf(XAuthError);
    expect((looked as Error).message).toMatch(/DM lookup.*npm run x -- authorize --tenant NAME/);
  });

  it('refused tokens (401) say to check the keys, or to authorize again on OAuth 2.0', async () => {
    answers.push({ status: 401, body: problem(401, 'Unauthorized', 'Unauthorized') });
    const err = await twitterWebhookApi(keys, url).subscribe('2').catch((e: unknown) => e);
    expect(describeXError(err)).toMatch(/check the keys.*authorize/);
  });
});
