import '../support/test-env';
import { signPayload, verifySignature } from '../../functions/core/x-signature';
import { twitterWebhookApi } from '../../functions/adapters/x-webhooks';
import type { LocalBridge } from '../../local/start';
import { startTestBridge } from '../support/local-bridge';
import { LOCAL_PUBLIC_ORIGIN } from '../../local/external-services';
import { WEBHOOK_PATH } from '../../functions/core/x-signature';
import { sampleDelivery } from '../../local/demo';
import { startOmnichannelSimulator, type OmnichannelSimulator } from '../../simulators/fourbiz-omnichannel';
import { simulatorCredentials } from '../../simulators/x';
import { aaaFixtureNames, fixtureBytes } from '../support/x-fixtures';
import { startFourbizSimulator, type FourbizSimulator } from '../../simulators/fourbiz-rest';
import { until } from '../support/until';

async function postDm(bridge: LocalBridge, body: Buffer, secret = bridge.consumerSecret): Promise<Response> {
  return fetch(bridge.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': signPayload(secret, body) },
    body,
  });
}

describe('local bridge with its simulators (relay mode)', () => {
  let bridge: LocalBridge;
  beforeAll(async () => {
    bridge = await startTestBridge();
  }, 30_000);
  afterAll(() => bridge?.stop());

  it('answers X CRC checks with the development consumer secret', async () => {
    const res = await fetch(`${bridge.webhookUrl}?crc_token=hello`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ response_token: signPayload(simulatorCredentials.consumerSecret, 'hello') });
    expect((await fetch(bridge.webhookUrl)).status).toBe(400);
  });

  it('relays a signed DM to the 4biz Omnichannel simulator, and lists it at /_local/deliveries', async () => {
    const dm = sampleDelivery(bridge.tenant.xAccountId);
    const res = await postDm(bridge, dm.body);
    expect(res.status).toBe(200);

    const delivery = await until('the delivery at 4biz', () => bridge.omnichannel!.deliveries.find((d) => d.eventId === dm.eventId), 10_000);
    expect(delivery.senderId).toBe(dm.senderId);
    expect(delivery.body.for_user_id).toBe(bridge.tenant.xAccountId);
    expect(delivery.body.direct_message_events?.[0]?.message_create?.message_data?.text).toBe(dm.text);

    const listed = (await (await fetch(`${bridge.url}/_local/deliveries`)).json()) as Array<{ eventId: string }>;
    expect(listed.map((d) => d.eventId)).toContain(dm.eventId);
  });

  it('accepts X Activity API deliveries like AAA ones: webhook registered and dm.received subscribed at the X simulator, the DM reaches 4biz', async () => {
    const x = bridge.xApi!;
    const api = twitterWebhookApi(x.credentials, x.url);
    const hook = await api.createWebhook(`${LOCAL_PUBLIC_ORIGIN}${WEBHOOK_PATH}`);
    await api.createActivitySubscription({ eventType: 'dm.received', userId: bridge.tenant.xAccountId, webhookId: hook.id, tag: 'local' });
    const { eventId, deliveries } = await x.receiveDm({ senderId: '2900000000000000061', username: 'carla_dias', name: 'Carla Dias', text: 'via XAA' });
    expect(deliveries.map((d) => d.status)).toEqual([200]);
    const delivery = await until('the delivery at 4biz', () => bridge.omnichannel!.deliveries.find((d) => d.eventId === eventId), 10_000);
    expect(delivery.body.for_user_id).toBe(bridge.tenant.xAccountId);
    expect(delivery.body.users?.['2900000000000000061']).toMatchObject({ screen_name: 'carla_dias', name: 'Carla Dias' });
  });

  it('rejects a delivery signed with another secret, and relays nothing for it', async () => {
    const dm = sampleDelivery(bridge.tenant.xAccountId);
    const res = await postDm(bridge, dm.body, 'not-the-consumer-secret');
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(bridge.omnichannel!.deliveries.some((d) => d.eventId === dm.eventId)).toBe(false);
  });
});

describe('local bridge: only X gets in, genuine DMs reach 4biz once (issue 8)', () => {
  let bridge: LocalBridge;
  beforeAll(async () => {
    bridge = await startTestBridge();
  }, 30_000);
  afterAll(() => bridge?.stop());

  const relayed = (eventId: string) => bridge.omnichannel!.deliveries.filter((d) => d.eventId === eventId);

  it('gives no CRC answer for a delivery body', async () => {
    const body = sampleDelivery(bridge.tenant.xAccountId).body.toString('utf8');
    const res = await fetch(`${bridge.webhookUrl}?crc_token=${encodeURIComponent(body)}`);
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('sha256=');
  });

  it("never forwards a correctly signed delivery for another account, nor a name from hostile users keys (the DM itself is kept, issue 18 §1)", async () => {
    const foreign = JSON.parse(sampleDelivery(bridge.tenant.xAccountId).body.toString('utf8'));
    foreign.for_user_id = '1400000000000000999';
    const foreignRes = await postDm(bridge, Buffer.from(JSON.stringify(foreign)));
    expect(foreignRes.status).toBe(200);

    const hostile = sampleDelivery(bridge.tenant.xAccountId);
    const text = hostile.body
      .toString('utf8')
      .replace('"users":{', `"users":{"__proto__":{"${hostile.senderId}":{"id":"${hostile.senderId}","name":"I am your CEO"}},"evil":{"id":"evil"},`);
    expect((await postDm(bridge, Buffer.from(text))).status).toBe(200);

    // A genuine DM sent after them arrives; by then anything queued before it would have too.
    const genuine = sampleDelivery(bridge.tenant.xAccountId);
    expect((await postDm(bridge, genuine.body)).status).toBe(200);
    await until('the genuine DM relayed', () => relayed(genuine.eventId)[0], 10_000);
    expect(relayed(foreign.direct_message_events[0].id)).toEqual([]);
    await until('the DM with hostile users keys relayed', () => relayed(hostile.eventId)[0], 10_000);
    expect(relayed(hostile.eventId)).toHaveLength(1);
    expect(bridge.omnichannel!.deliveries.some((d) => d.body.users?.[hostile.senderId]?.name === 'I am your CEO')).toBe(false);
  });

  it('delivers the genuine fixtures once each, replays included, with the DM event id as Idempotency-Key', async () => {
    const expected: string[] = [];
    for (const name of aaaFixtureNames) {
      const parsed = JSON.parse(fixtureBytes(name).toString('utf8')) as { for_user_id: string; direct_message_events?: { id: string; type: string; created_timestamp: string; message_create?: { sender_id: string } }[] };
      // Sent now (the fixtures date from 2024): the webhook drops DMs older than the processed-record lifetime.
      for (const e of parsed.direct_message_events ?? []) e.created_timestamp = String(Date.now());
      const body = Buffer.from(JSON.stringify(parsed));
      for (const e of parsed.direct_message_events ?? []) if (e.type === 'message_create' && e.message_create?.sender_id !== parsed.for_user_id) expected.push(e.id);
      expect((await postDm(bridge, body)).status).toBe(200);
      // X replays the delivery (a retry, or POST /2/webhooks/replay).
      expect((await postDm(bridge, body)).status).toBe(200);
    }
    expect(expected.length).toBeGreaterThan(3);
    for (const id of expected) await until(`DM ${id} relayed`, () => relayed(id)[0], 10_000);
    // A last DM as a marker: once it is through, nothing earlier is still on its way.
    const marker = sampleDelivery(bridge.tenant.xAccountId);
    await postDm(bridge, marker.body);
    await until('the marker DM relayed', () => relayed(marker.eventId)[0], 10_000);
    for (const id of expected) {
      expect(relayed(id)).toHaveLength(1);
      expect(relayed(id)[0].idempotencyKey).toBe(id);
    }
  });
});

describe('local bridge pointed at an external 4biz callback URL (FOURBIZ_CALLBACK_URL)', () => {
  let external: OmnichannelSimulator;
  let bridge: LocalBridge;
  beforeAll(async () => {
    external = await startOmnichannelSimulator({ consumerSecret: simulatorCredentials.consumerSecret });
    bridge = await startTestBridge({ fourbizCallbackUrl: external.url });
  }, 30_000);
  afterAll(async () => {
    await bridge?.stop();
    await external?.stop();
  });

  it('runs no 4biz simulator of its own and delivers there, signed over the exact bytes sent (§3)', async () => {
    expect(bridge.omnichannel).toBeUndefined();
    const dm = sampleDelivery(bridge.tenant.xAccountId);
    expect((await postDm(bridge, dm.body)).status).toBe(200);

    const delivery = await until('the delivery at the external callback', () => external.deliveries.find((d) => d.eventId === dm.eventId), 10_000);
    expect(verifySignature(simulatorCredentials.consumerSecret, delivery.raw, delivery.signature)).toBe(true);
    expect(delivery.body.direct_message_events).toHaveLength(1);
    expect(Object.keys(delivery.body.users ?? {})).toContain(dm.senderId);
  });
});

describe('local bridge in tickets mode (FOURBIZ_MODE=tickets)', () => {
  let bridge: LocalBridge;
  beforeAll(async () => {
    bridge = await startTestBridge({ fourbizMode: 'tickets', pollIntervalMs: 60_000 });
  }, 30_000);
  afterAll(() => bridge?.stop());

  it('opens a 4biz request for a DM, and an agent answer comes back to the user as a DM through X', async () => {
    const dm = sampleDelivery(bridge.tenant.xAccountId);
    expect((await postDm(bridge, dm.body)).status).toBe(200);
    const request = await until('the 4biz request', () => bridge.fourbizRest!.requests.find((r) => r.numberOrigin.startsWith(dm.senderId)), 10_000);

    const res = await fetch(`${bridge.url}/_local/agent-reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ numberOrigin: request.numberOrigin, text: 'Pode reiniciar a impressora?' }),
    });
    expect(res.status).toBe(200);

    const reply = await until('the reply DM', () => bridge.xApi!.dms.find((d) => d.participantId === dm.senderId), 10_000);
    expect(reply.text).toContain('Pode reiniciar a impressora?');
  });
});

describe('local bridge in tickets mode pointed at an external 4biz REST server (FOURBIZ_BASE_URL)', () => {
  let external: FourbizSimulator;
  let bridge: LocalBridge;
  beforeAll(async () => {
    // A server answering as 4biz's public webservice documentation describes, sessions expiring often.
    external = await startFourbizSimulator({ userName: 'bridge.user', password: 'bridge-pass', listShape: 'ocurrences' });
    external.expireSessionsEvery(1);
    bridge = await startTestBridge({ fourbizMode: 'tickets', fourbizBaseUrl: external.baseUrl, fourbizUser: 'bridge.user', fourbizPassword: 'bridge-pass', pollIntervalMs: 60_000 });
  }, 30_000);
  afterAll(async () => {
    await bridge?.stop();
    await external?.close();
  });

  it('completes DM → request → agent answer → DM through the real handlers', async () => {
    expect(bridge.fourbizRest).toBeUndefined();
    const dm = sampleDelivery(bridge.tenant.xAccountId);
    expect((await postDm(bridge, dm.body)).status).toBe(200);

    const request = await until('the request at the external 4biz', () => external.requests.find((r) => r.numberOrigin.startsWith(dm.senderId)), 10_000);
    expect(request.source).toMatchObject({ type: 'R', groupId: 'N1-ATENDIMENTO', service: { code: 'ATENDIMENTO-X' } });
    expect(String(request.source.description)).toContain('Minha impressora parou de funcionar');

    external.addAgentOccurrence(request.number, '<p>Olá! Pode reiniciar a impressora?</p>');
    await bridge.pollNow!();
    const reply = await until('the reply DM', () => bridge.xApi!.dms.find((d) => d.participantId === dm.senderId), 10_000);
    expect(reply.text).toBe('Olá! Pode reiniciar a impressora?');
    expect(external.calls.some((c) => c.status === 412)).toBe(true);
  });

  it('never sends an internal Diagnostico note; sends Acompanhamento answers once, in order, without U+202E', async () => {
    const dm = sampleDelivery(bridge.tenant.xAccountId);
    const senderId = dm.senderId;
    expect((await postDm(bridge, dm.body)).status).toBe(200);
    const request = await until('the request', () => external.requests.find((r) => r.numberOrigin.startsWith(senderId)), 10_000);
    const before = bridge.xApi!.dms.filter((d) => d.participantId === senderId).length;
    external.addAgentOccurrence(request.number, 'Nota interna: cliente suspeito de fraude… Senha do roteador: admin123', { category: 'Diagnostico' });
    external.addAgentOccurrence(request.number, 'Primeira: veja https://exemplo.com/\u202Egnp.exe', { category: 'Acompanhamento' });
    external.addAgentOccurrence(request.number, 'Segunda resposta', { category: 'Acompanhamento' });
    await bridge.pollNow!();
    await bridge.pollNow!();
    const replies = await until('both answers', () => {
      const got = bridge.xApi!.dms.filter((d) => d.participantId === senderId).slice(before);
      return got.length >= 2 ? got : undefined;
    }, 10_000);
    await bridge.pollNow!();
    await new Promise((r) => setTimeout(r, 500));
    const all = bridge.xApi!.dms.filter((d) => d.participantId === senderId).slice(before).map((d) => d.text);
    expect(all).toEqual(['Primeira: veja https://exemplo.com/gnp.exe', 'Segunda resposta']);
    expect(replies.map((d) => d.text).join()).not.toMatch(/admin123|\u202E/);
  }, 30_000);

  it('sends a 300 KB answer as a few DMs ending with where to read it, and the answer after it still arrives', async () => {
    const dm = sampleDelivery(bridge.tenant.xAccountId);
    expect((await postDm(bridge, dm.body)).status).toBe(200);
    const request = await until('the request', () => external.requests.find((r) => r.numberOrigin.startsWith(dm.senderId)), 10_000);
    const before = bridge.xApi!.dms.filter((d) => d.participantId === dm.senderId).length;
    external.addAgentOccurrence(request.number, 'Segue o relatório. '.repeat(16_000), { category: 'Acompanhamento' });
    external.addAgentOccurrence(request.number, 'Resposta depois do relatório', { category: 'Acompanhamento' });
    await bridge.pollNow!();
    const got = await until('four DMs', () => {
      const dms = bridge.xApi!.dms.filter((d) => d.participantId === dm.senderId).slice(before);
      return dms.length >= 4 ? dms : undefined;
    }, 20_000);
    expect(got.map((d) => d.text.length <= 10_000)).toEqual([true, true, true, true]);
    expect(got[2].text).toContain(`solicitação nº ${request.number}`);
    expect(got[3].text).toBe('Resposta depois do relatório');
  }, 40_000);

  it('survives a 50 MB listOccurrences answer: that poll fails, the bridge stays up and the later answers arrive', async () => {
    const dm = sampleDelivery(bridge.tenant.xAccountId);
    expect((await postDm(bridge, dm.body)).status).toBe(200);
    const request = await until('the request', () => external.requests.find((r) => r.numberOrigin.startsWith(dm.senderId)), 10_000);
    const before = bridge.xApi!.dms.filter((d) => d.participantId === dm.senderId).length;
    external.addAgentOccurrence(request.number, 'Resposta depois da lista enorme', { category: 'Acompanhamento' });
    external.answerHuge('/services/request/listOccurrences', 50 * 1024 * 1024);
    await bridge.pollNow!();
    expect(external.huge.written).toBeLessThan(20 * 1024 * 1024);
    await bridge.pollNow!();
    const reply = await until('the later answer', () => bridge.xApi!.dms.filter((d) => d.participantId === dm.senderId).slice(before)[0], 10_000);
    expect(reply.text).toBe('Resposta depois da lista enorme');
  }, 30_000);
});
