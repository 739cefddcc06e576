import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';

/** Issue 18 §5: the X simulator meters what X's pay-per-use would bill. */
describe('X simulator: billing meter', () => {
  let sim: XApiSimulator;
  let clock = Date.UTC(2026, 11, 2, 10, 0);
  const userToken = 'billing-user-token';
  beforeEach(async () => {
    clock = Date.UTC(2026, 11, 2, 10, 0);
    sim = await startXApiSimulator({ now: () => clock });
    sim.oauth2UserTokens.add(userToken);
  });
  afterEach(() => sim.close());
  const get = (path: string) => fetch(`${sim.url}${path}`, { headers: { authorization: `Bearer ${userToken}` } });

  it('bills a DM event read once per UTC day, however often it is read', async () => {
    for (let i = 0; i < 5; i++) sim.addDmEvent({ senderId: '2900000000000000042', text: `m${i}` });
    await get('/2/dm_events?max_results=5');
    await get('/2/dm_events?max_results=5');
    await get('/2/dm_events?max_results=3');
    expect(sim.billing.units()).toEqual({ dmEventRead: 5, dmSent: 0, activityDelivery: 0 });
    expect(sim.billing.usd()).toBe(0.05);
    clock += 24 * 3600_000; // the next UTC day
    await get('/2/dm_events?max_results=5');
    expect(sim.billing.units().dmEventRead).toBe(10);
    // A failed lookup bills nothing.
    sim.script('GET /2/dm_events', { status: 503 });
    await get('/2/dm_events?max_results=5');
    expect(sim.billing.usd()).toBe(0.1);
  });

  it('bills each DM sent ($0.015) and each X Activity API dm.received delivered ($0.010), not dm.sent or a refused send', async () => {
    const send = (to: string) =>
      fetch(`${sim.url}/2/dm_conversations/with/${to}/messages`, { method: 'POST', headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'olá' }) });
    await send('2900000000000000042');
    await send('2900000000000000042');
    sim.dmRefusers.add('2900000000000000043');
    expect((await send('2900000000000000043')).status).toBe(403);

    const at = new Date(clock).toISOString();
    sim.webhooks.push({ id: '1900000000000000001', url: 'https://127.0.0.1/hook', valid: true, created_at: at });
    for (const eventType of ['dm.received', 'dm.sent']) sim.activitySubscriptions.push({ subscription_id: eventType, event_type: eventType, filter: { user_id: sim.accountId }, webhook_id: '1900000000000000001', created_at: at, updated_at: at });
    await sim.receiveDm({ senderId: '2900000000000000042', username: 'p', name: 'P', text: 'oi' });
    await sim.emitActivity('dm.sent', {});
    expect(sim.billing.units()).toEqual({ dmEventRead: 0, dmSent: 2, activityDelivery: 1 });
    expect(sim.billing.usd()).toBe(0.04);
    sim.reset();
    expect(sim.billing.usd()).toBe(0);
  });
});
