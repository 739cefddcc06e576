import { fetchBearerToken, describeXError, twitterWebhookApi, xErrorReasons } from '../../functions/adapters/x-webhooks';
import { listenOnLoopback } from '../../simulators/http';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';

/** The X webhook adapter shared by the CLI and the webhook-health function. */
describe('X webhook adapter', () => {
  let x: XApiSimulator;
  beforeAll(async () => {
    x = await startXApiSimulator({ rateLimits: { 'GET /2/webhooks': { limit: 2, windowSeconds: 900 } } });
  });
  afterAll(() => x.close());
  beforeEach(() => x.reset());

  it("accepts only an answer with token_type bearer as the app's bearer token", async () => {
    const answers = [{ token_type: 'bearer', access_token: 'AAAA-token' }, { token_type: 'mac', access_token: 'AAAA-token' }, { access_token: 'AAAA-token' }];
    let next = 0;
    const { server, port } = await listenOnLoopback(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answers[next++]));
    });
    try {
      const keys = { consumerKey: 'k', consumerSecret: 's' };
      await expect(fetchBearerToken(keys, `http://127.0.0.1:${port}`)).resolves.toBe('AAAA-token');
      await expect(fetchBearerToken(keys, `http://127.0.0.1:${port}`)).rejects.toThrow('not a bearer token');
      await expect(fetchBearerToken(keys, `http://127.0.0.1:${port}`)).rejects.toThrow('not a bearer token');
    } finally {
      server.close();
    }
  });

  it("reads X's 429 (code 88) with the time the endpoint's own window lifts, while other endpoints still answer", async () => {
    const api = twitterWebhookApi(x.credentials, x.url);
    await api.listWebhooks();
    await api.listWebhooks();
    const err = await api.listWebhooks().catch((e: unknown) => e);
    expect(describeXError(err)).toMatch(/^X API answered 429 Too Many Requests: Rate limit exceeded \(rate limited until \d{4}-\d\d-\d\dT/);
    // Per-endpoint windows: the activity subscriptions listing has its own.
    await expect(api.listActivitySubscriptions()).resolves.toEqual([]);
  });

  it('limits DM sends to 15 per 15 minutes per user, as X documents', async () => {
    const { TwitterApi } = await import('twitter-api-v2');
    const { Agent } = await import('node:http');
    const c = x.credentials;
    const user = new TwitterApi({ appKey: c.consumerKey, appSecret: c.consumerSecret, accessToken: c.accessToken, accessSecret: c.accessTokenSecret }, { httpAgent: new Agent() }).v2;
    const statuses: number[] = [];
    for (let i = 0; i < 16; i++) {
      statuses.push(await user.post('dm_conversations/with/2900000000000000042/messages', { text: `m${i}` }, { prefix: `${x.url}/2/` }).then(() => 201, (e: { code: number }) => e.code));
    }
    expect(statuses).toEqual([...Array(15).fill(201), 429]);
  });

  it("names X's failure reasons from errors[].message", async () => {
    const api = twitterWebhookApi(x.credentials, x.url);
    const err = await api.createWebhook('http://bridge.example/hook').catch((e: unknown) => e);
    expect(xErrorReasons(err)).toEqual(['UrlValidationFailed']);
    expect(describeXError(err)).toContain('(X accepts only https URLs without a port)');
    expect(xErrorReasons(new Error('x'))).toEqual([]);
  });

  // Issue 18 §1: what X documents, read as X documents it.
  describe('as X documents it', () => {
    const hook = () => {
      // A webhook X knows, whose URL does not answer X's CRC (nothing listens there).
      const w = { id: '1900000000000000001', url: 'https://127.0.0.1/hook', valid: true, created_at: '2026-11-30T10:00:00.000Z' };
      x.webhooks.push(w);
      return w;
    };

    it('asks GET /2/webhooks for the fields it reads (X gives only id and url otherwise)', async () => {
      const w = hook();
      await expect(twitterWebhookApi(x.credentials, x.url).listWebhooks()).resolves.toEqual([w]);
    });

    it('reads a PUT /2/webhooks/:id failing with CrcValidationFailed as an invalid webhook, not a broken check', async () => {
      const w = hook();
      x.switches.revalidationFailure = 'CrcValidationFailed';
      await expect(twitterWebhookApi(x.credentials, x.url).validateWebhook(w.id)).resolves.toBe(false);
      expect(x.requests.at(-1)).toMatchObject({ method: 'PUT', status: 400 });
    });

    it('reads POST /2/activity/subscriptions answering {data: [subscription], meta}', async () => {
      const w = hook();
      x.switches.activityCreated = 'array';
      const sub = await twitterWebhookApi(x.credentials, x.url).createActivitySubscription({ eventType: 'dm.received', userId: x.accountId, webhookId: w.id, tag: 't1' });
      expect(sub).toMatchObject({ event_type: 'dm.received', filter: { user_id: x.accountId }, webhook_id: w.id, tag: 't1' });
      expect(sub.subscription_id).toBe(x.activitySubscriptions[0]!.subscription_id);
    });

    it('reads every page of GET /2/activity/subscriptions', async () => {
      const at = '2026-11-30T10:00:00.000Z';
      for (let i = 0; i < 1200; i++) x.activitySubscriptions.push({ subscription_id: String(1_000_000 + i), event_type: 'dm.received', filter: { user_id: String(3_000_000 + i) }, created_at: at, updated_at: at });
      const all = await twitterWebhookApi(x.credentials, x.url).listActivitySubscriptions();
      expect(all.map((s) => s.subscription_id)).toEqual(x.activitySubscriptions.map((s) => s.subscription_id));
      expect(x.requests.filter((r) => r.path === '/2/activity/subscriptions')).toHaveLength(2);
    });
  });
});
