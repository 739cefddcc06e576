import { twitterWebhookApi } from '../../functions/adapters/x-webhooks';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';

/** The X simulator's scripted failures: each answers as X documents it, in the order scripted. */
const person = '2900000000000000042';
const userToken = 'oauth2-user-token';

describe('X simulator: scripted failures', () => {
  let sim: XApiSimulator;
  beforeEach(async () => {
    sim = await startXApiSimulator();
    sim.oauth2UserTokens.add(userToken);
  });
  afterEach(() => sim.close());

  const sendDm = (text = 'oi', signal?: AbortSignal) =>
    fetch(`${sim.url}/2/dm_conversations/with/${person}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal,
    });

  it('answers 402 CreditsDepleted, then the daily caps with their 24-hour reset headers, then usage-capped', async () => {
    const reset = Math.floor(Date.now() / 1000) + 3600;
    sim.script('dm', { status: 402, creditsDepleted: true });
    sim.script('POST /2/dm_conversations/with/:participant_id/messages', { status: 429, dailyCap: 'user', resetAt: reset });
    sim.script('dm', { status: 429, dailyCap: 'app', resetAt: reset });
    sim.script('all', { status: 429, usageCapped: true, period: 'Daily', resetAt: reset });

    const credits = await sendDm();
    expect(credits.status).toBe(402);
    expect(await credits.json()).toMatchObject({ title: 'CreditsDepleted', status: 402 });

    const userCap = await sendDm();
    expect(userCap.status).toBe(429);
    expect(userCap.headers.get('x-user-limit-24hour-reset')).toBe(String(reset));
    expect(userCap.headers.get('x-user-limit-24hour-remaining')).toBe('0');
    const appCap = await sendDm();
    expect(appCap.headers.get('x-app-limit-24hour-reset')).toBe(String(reset));

    const capped = await sendDm();
    expect(capped.status).toBe(429);
    expect(await capped.json()).toMatchObject({ type: 'https://api.twitter.com/2/problems/usage-capped', period: 'Daily' });

    expect((await sendDm()).status).toBe(201);
    expect(sim.dms).toHaveLength(1);
  });

  it('stores the DM and still answers 503 when the answer is scripted to be lost', async () => {
    sim.script('dm', { afterHandling: true, status: 503 });
    expect((await sendDm('stored')).status).toBe(503);
    expect(sim.dms.map((d) => d.text)).toEqual(['stored']);
    expect(sim.dmEvents.map((e) => e.text)).toEqual(['stored']);
  });

  it('holds a call for the scripted time, or until the caller gives up', async () => {
    sim.script('dm', { hang: true, ms: 150 });
    const started = Date.now();
    expect((await sendDm()).status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    sim.script('dm', { hang: true });
    await expect(sendDm('never', AbortSignal.timeout(200))).rejects.toThrow();
    expect(sim.dms.map((d) => d.text)).toEqual(['oi']);
  });

  it('leaves calls a failure is not aimed at alone', async () => {
    sim.script('GET /2/dm_events', { status: 503 });
    expect((await sendDm()).status).toBe(201);
    const lookup = await fetch(`${sim.url}/2/dm_events`, { headers: { authorization: `Bearer ${userToken}` } });
    expect(lookup.status).toBe(503);
  });

  it('answers a 403 without X\'s markers, and forgets scripted failures on reset', async () => {
    sim.script('dm', { status: 403, plain: true });
    const plain = await sendDm();
    expect(plain.status).toBe(403);
    expect(await plain.json()).toMatchObject({ title: 'Forbidden', type: 'about:blank' });
    sim.script('dm', { status: 503 }, 2);
    sim.reset();
    sim.oauth2UserTokens.add(userToken);
    expect((await sendDm()).status).toBe(201);
  });

  it('refuses OAuth 1.0a for private events when switched to what X\'s docs demand, and takes OAuth 2.0', async () => {
    const hook = { id: '1900000000000000001', url: 'https://127.0.0.1/hook', valid: true, created_at: '2026-11-30T10:00:00.000Z' };
    sim.webhooks.push(hook);
    sim.switches.oauth1ForPrivateEvents = 'refused';
    const request = { eventType: 'dm.received', userId: sim.accountId, webhookId: hook.id, tag: 't' };
    const refused = await twitterWebhookApi(sim.credentials, sim.url).createActivitySubscription(request).catch((e: { code?: number; data?: { type?: string } }) => e);
    expect(refused).toMatchObject({ code: 403, data: { type: 'https://api.twitter.com/2/problems/unsupported-authentication' } });
    const oauth2 = await fetch(`${sim.url}/2/activity/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event_type: 'dm.received', filter: { user_id: sim.accountId }, webhook_id: hook.id }),
    });
    expect(oauth2.status).toBe(200);
    // Public events still take OAuth 1.0a.
    await expect(twitterWebhookApi(sim.credentials, sim.url).createActivitySubscription({ ...request, eventType: 'follow.follow' })).resolves.toMatchObject({ event_type: 'follow.follow' });
  });
});
