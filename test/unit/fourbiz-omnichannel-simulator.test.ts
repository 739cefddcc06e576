import { createRelayClient } from '../../functions/adapters/fourbiz/relay';
import { staticSecretSource } from '../../functions/adapters/secrets';
import { openConversation } from '../../functions/core/conversation';
import { PermanentError, TransientError } from '../../functions/core/errors';
import { accountActivitySchema, normaliseDelivery } from '../../functions/core/x-events';
import { signPayload } from '../../functions/core/x-signature';
import { startOmnichannelSimulator, type OmnichannelSimulator } from '../../simulators/fourbiz-omnichannel';
import { fixtureBytes, testSecret } from '../support/x-fixtures';

const [message] = normaliseDelivery(accountActivitySchema.parse(JSON.parse(fixtureBytes('dm-received.json').toString('utf8')))).messages;
const conversation = openConversation(message.sender, new Date(0));

describe('4biz Omnichannel simulator (what the relay tests rely on)', () => {
  let sim: OmnichannelSimulator;
  const relay = (secret = testSecret) => createRelayClient({ mode: 'relay', callbackUrl: sim.url, timeoutMs: 300 }, staticSecretSource(secret));

  beforeEach(async () => {
    sim = await startOmnichannelSimulator({ consumerSecret: testSecret.consumerSecret });
  });
  afterEach(() => sim.stop());

  it('accepts a correctly signed single-DM payload and records it', async () => {
    await relay().deliver(message, conversation);
    expect(sim.deliveries.map((d) => d.eventId)).toEqual([message.eventId]);
  });

  it('answers 401 to a signature made with another secret, like 4biz', async () => {
    await expect(relay({ ...testSecret, consumerSecret: 'other' }).deliver(message, conversation)).rejects.toMatchObject({ status: 401 });
    expect(sim.deliveries).toHaveLength(0);
  });

  it('answers 400 to a signed body that is not one DM event with its user', async () => {
    const body = JSON.stringify({ for_user_id: '1', direct_message_events: [] });
    const res = await fetch(sim.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': signPayload(testSecret.consumerSecret, body) },
      body,
    });
    expect(res.status).toBe(400);
  });

  it('fails on demand, hangs, and refuses connections while down, then comes back on the same port', async () => {
    sim.failWith(503);
    await expect(relay().deliver(message, conversation)).rejects.toBeInstanceOf(TransientError);
    sim.failWith(400);
    await expect(relay().deliver(message, conversation)).rejects.toBeInstanceOf(PermanentError);
    sim.reset().timeOut();
    await expect(relay().deliver(message, conversation)).rejects.toThrow(/within 300 ms/);
    sim.reset();
    const url = sim.url;
    await sim.stop();
    await expect(relay().deliver(message, conversation)).rejects.toThrow(/unreachable/);
    await sim.start();
    expect(sim.url).toBe(url);
    await relay().deliver(message, conversation);
    expect(sim.deliveries).toHaveLength(1);
  });

  it('fails a seeded share of calls', async () => {
    sim.failFraction(0.5);
    const outcomes = [];
    for (let i = 0; i < 40; i++) outcomes.push(await relay().deliver(message, conversation).then(() => 'ok', () => 'failed'));
    const failed = outcomes.filter((o) => o === 'failed').length;
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);
  });
});
