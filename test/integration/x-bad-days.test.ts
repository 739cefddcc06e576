import '../support/test-env';
import { signPayload } from '../../functions/core/x-signature';
import type { LocalBridge } from '../../local/start';
import { startTestBridge } from '../support/local-bridge';
import { sampleDelivery } from '../../local/demo';
import { until } from '../support/until';

/**
 * Issue 18's acceptance against the local runner (`npm start` in-process, tickets mode, the real
 * sender): an X that answers 402 three times, then hangs once (and stores the DM after the
 * sender's 10 s deadline: the answer is lost), then hits the daily DM cap for a few seconds still
 * receives every answer once, in order.
 */
const SEND = 'POST /2/dm_conversations/with/:participant_id/messages';

describe('local bridge in tickets mode on one of X\'s bad days', () => {
  let bridge: LocalBridge;
  beforeAll(async () => {
    bridge = await startTestBridge({ fourbizMode: 'tickets', pollIntervalMs: 60_000 });
  }, 30_000);
  afterAll(() => bridge?.stop());

  it('402 ×3, a hang whose DM X stored, a daily cap for 3 s: every answer reaches the person once, in order', async () => {
    const x = bridge.xApi!;
    const dm = sampleDelivery(bridge.tenant.xAccountId);
    const res = await fetch(bridge.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': signPayload(bridge.consumerSecret, dm.body) },
      body: dm.body,
    });
    expect(res.status).toBe(200);
    const request = await until('the 4biz request', () => bridge.fourbizRest!.requests.find((r) => r.numberOrigin.startsWith(dm.senderId)), 10_000);

    x.script(SEND, { status: 402, creditsDepleted: true }, 3);
    // X takes the DM, but only after the sender gave up waiting (its deadline is 10 s).
    x.script(SEND, { hang: true, ms: 10_500 });
    x.script(SEND, { status: 429, dailyCap: 'user', resetAt: Math.ceil(Date.now() / 1000) + 3 });

    const answers = ['Primeira resposta', 'Segunda resposta', 'Terceira resposta'];
    for (const text of answers) {
      const posted = await fetch(`${bridge.url}/_local/agent-reply`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ numberOrigin: request.numberOrigin, text }),
      });
      expect(posted.status).toBe(200);
    }
    const received = () => x.dms.filter((d) => d.participantId === dm.senderId).map((d) => d.text);
    await until('every answer at X', () => (answers.every((a) => received().includes(a)) ? true : undefined), 100_000);
    // Time for a wrong second send to show up.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(received()).toEqual(answers);
    // The sender looked once at the conversation after the lost answer, instead of sending again.
    expect(x.requests.filter((r) => r.path === `/2/dm_conversations/with/${dm.senderId}/dm_events`)).toHaveLength(1);
    expect(x.requests.filter((r) => r.path.endsWith('/messages') && r.status === 402)).toHaveLength(3);
  }, 120_000);
});
