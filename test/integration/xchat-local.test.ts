import '../support/test-env';
import { twitterWebhookApi } from '../../functions/adapters/x-webhooks';
import { WEBHOOK_PATH } from '../../functions/core/x-signature';
import { LOCAL_PUBLIC_ORIGIN } from '../../local/external-services';
import type { LocalBridge, LocalBridgeOptions } from '../../local/start';
import { startTestBridge } from '../support/local-bridge';
import { until } from '../support/until';

/** Acceptance of issue 20 against `npm start` (XCHAT=true): the real handlers, emulators, the X simulator's XChat people. */
const startIsolated = (options: LocalBridgeOptions) => startTestBridge({ xchat: true, ...options });

async function subscribeChats(bridge: LocalBridge) {
  const x = bridge.xApi!;
  const api = twitterWebhookApi(x.credentials, x.url);
  const hook = await api.createWebhook(`${LOCAL_PUBLIC_ORIGIN}${WEBHOOK_PATH}`);
  await api.createActivitySubscription({ eventType: 'chat.received', userId: bridge.tenant.xAccountId, webhookId: hook.id, tag: 'xchat' });
}

describe('XChat through the local bridge (tickets mode)', () => {
  let bridge: LocalBridge;
  beforeAll(async () => {
    bridge = await startIsolated({ fourbizMode: 'tickets', pollIntervalMs: 60_000 });
    await subscribeChats(bridge);
  }, 60_000);
  afterAll(() => bridge?.stop());

  it('an encrypted message reaches 4biz once as text; the agent\'s answer goes back encrypted and the person\'s client decrypts and verifies it', async () => {
    const senderId = '2900000000000000171';
    const { deliveries } = await bridge.xApi!.receiveChat({ senderId, text: 'Olá, minha fatura veio errada' });
    expect(deliveries).toHaveLength(1);
    const request = await until('the 4biz request', () => bridge.fourbizRest!.requests.find((r) => r.numberOrigin.startsWith(senderId)), 20_000);
    expect(String(request.source.description)).toContain('Olá, minha fatura veio errada');

    // Forged and tampered messages never reach 4biz; a key change mid-conversation is followed.
    await bridge.xApi!.receiveChat({ senderId, text: 'forjada', forged: true });
    await bridge.xApi!.receiveChat({ senderId, text: 'adulterada', tampered: true });
    await bridge.xApi!.receiveChat({ senderId, text: 'depois da troca de chave', rotateKey: true });
    await until('the message after the key change', () => request.occurrences.find((o) => o.description.includes('depois da troca de chave')), 20_000);
    const written = JSON.stringify([request.source.description, ...request.occurrences.map((o) => o.description)]);
    // Once: the first message opened the request and is not written again as an occurrence.
    expect(written.split('Olá, minha fatura veio errada')).toHaveLength(2);
    expect(written).not.toContain('forjada');
    expect(written).not.toContain('adulterada');

    bridge.fourbizRest!.addAgentOccurrence(request.number, 'Corrigimos a fatura 2024-11');
    await bridge.pollNow!();
    const read = await until('the answer in the person\'s XChat', () => bridge.xApi!.chatRead.find((r) => r.text?.includes('Corrigimos')), 20_000);
    expect(read).toMatchObject({ verified: true, senderId: bridge.tenant.xAccountId });
    expect(bridge.xApi!.dms.filter((d) => d.participantId === senderId)).toEqual([]);
  }, 90_000);
});

describe('XChat through the local bridge (relay mode)', () => {
  let bridge: LocalBridge;
  beforeAll(async () => {
    bridge = await startIsolated({});
    await subscribeChats(bridge);
  }, 60_000);
  afterAll(() => bridge?.stop());

  it('relays an encrypted message to 4biz once, as text in the Account Activity shape; a forged one never', async () => {
    const senderId = '2900000000000000172';
    await bridge.xApi!.receiveChat({ senderId, text: 'forjada', forged: true });
    await bridge.xApi!.receiveChat({ senderId, text: 'Quero cancelar meu plano' });
    const delivery = await until('the delivery at 4biz', () => bridge.omnichannel!.deliveries.find((d) => d.senderId === senderId), 20_000);
    expect(delivery.body.for_user_id).toBe(bridge.tenant.xAccountId);
    expect(delivery.body.direct_message_events?.[0]?.message_create?.message_data?.text).toBe('Quero cancelar meu plano');
    expect(bridge.omnichannel!.deliveries.filter((d) => d.senderId === senderId)).toHaveLength(1);
  }, 60_000);

  it('a message whose conversation key X did not send with it: the key is read from X\'s conversation events, the message reaches 4biz once', async () => {
    const senderId = '2900000000000000173';
    await bridge.xApi!.receiveChat({ senderId, text: 'Minha chave não veio junto', keyChangeNotDelivered: true });
    const delivery = await until('the delivery at 4biz', () => bridge.omnichannel!.deliveries.find((d) => d.senderId === senderId), 20_000);
    expect(delivery.body.direct_message_events?.[0]?.message_create?.message_data?.text).toBe('Minha chave não veio junto');
    const reads = bridge.xApi!.requests.filter((r) => r.method === 'GET' && /^\/2\/chat\/conversations\/[0-9-]+\/events/.test(r.path));
    expect(reads).toHaveLength(1);
    // A later message of the same conversation uses the kept key: X is not read again.
    await bridge.xApi!.receiveChat({ senderId, text: 'segunda mensagem' });
    await until('the second delivery', () => bridge.omnichannel!.deliveries.find((d) => d.senderId === senderId && d.body.direct_message_events?.[0]?.message_create?.message_data?.text === 'segunda mensagem'), 20_000);
    expect(bridge.omnichannel!.deliveries.filter((d) => d.senderId === senderId)).toHaveLength(2);
    expect(bridge.xApi!.requests.filter((r) => r.method === 'GET' && /^\/2\/chat\/conversations\/[0-9-]+\/events/.test(r.path))).toHaveLength(1);
  }, 60_000);
});
