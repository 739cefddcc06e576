import fc from 'fast-check';
import { readDelivery } from '../../functions/core/webhook-delivery';
import { singleEventPayload } from '../../functions/core/x-events';
import { signPayload } from '../../functions/core/x-signature';
import { isXaaBody, readXaaBody } from '../../functions/core/xaa-events';
import { fixtureBytes, fixtureNames, vectors } from '../support/x-fixtures';

const COMPANY = '1400000000000000001';
const OTHER = '1500000000000000009';
const xaaFixtures = fixtureNames.filter((n) => n.startsWith('xaa-'));
const fixture = (name: string) => JSON.parse(fixtureBytes(name).toString('utf8'));
const read = (name: string, account = COMPANY) => readDelivery({ consumerSecret: vectors.consumerSecret, accountId: account, receivedAtMs: Date.now(), maxAgeMs: Infinity }, fixtureBytes(name), vectors.signatures[name]);
const readJson = (json: unknown, account = COMPANY) => {
  const body = Buffer.from(JSON.stringify(json));
  return readDelivery({ consumerSecret: vectors.consumerSecret, accountId: account, receivedAtMs: Date.now(), maxAgeMs: Infinity }, body, signPayload(vectors.consumerSecret, body));
};

describe('X Activity API deliveries', () => {
  it('has the four XAA fixtures with signatures', () => {
    expect(xaaFixtures.sort()).toEqual(['xaa-chat-received.json', 'xaa-dm-received.json', 'xaa-dm-sent.json', 'xaa-oauth-revoke.json']);
  });

  it.each(xaaFixtures)('accepts %s with the signature from vectors.json', (name) => {
    expect(isXaaBody(fixture(name))).toBe(true);
    expect(read(name)).toMatchObject({ accepted: true });
  });

  it.each(xaaFixtures)('rejects %s when one byte changes (401, before parsing)', (name) => {
    const body = Buffer.from(fixtureBytes(name));
    body[5] ^= 0x01;
    expect(readDelivery({ consumerSecret: vectors.consumerSecret, accountId: COMPANY, receivedAtMs: Date.now(), maxAgeMs: Infinity }, body, vectors.signatures[name])).toMatchObject({ accepted: false, status: 401 });
  });

  it('turns dm.received into the same inbound message as an AAA DM, users converted to v1.1', () => {
    const verdict = read('xaa-dm-received.json');
    if (!verdict.accepted) throw new Error(verdict.reason);
    expect(verdict.notice).toBeUndefined();
    const [message, ...rest] = verdict.delivery.messages;
    expect(rest).toEqual([]);
    const event = fixture('xaa-dm-received.json').data.payload.direct_message_events[0];
    expect(message).toMatchObject({
      eventId: '1861000000000000401',
      createdTimestamp: '1732500400123',
      createdAt: new Date(1732500400123).toISOString(),
      forUserId: COMPANY,
      sender: { id: '2900000000000000077', handle: 'joao_pereira', name: 'João Pereira' },
      recipientId: COMPANY,
      text: 'Bom dia! Minha fatura veio duplicada https://example.com/fatura-123',
      attachments: [],
    });
    expect(message!.raw.event).toEqual(event);
    expect(message!.raw.users).toEqual({
      '2900000000000000077': {
        id: '2900000000000000077',
        id_str: '2900000000000000077',
        name: 'João Pereira',
        screen_name: 'joao_pereira',
        profile_image_url_https: 'https://pbs.twimg.com/profile_images/3/c_normal.jpg',
        protected: false,
        verified: false,
      },
      [COMPANY]: {
        id: COMPANY,
        id_str: COMPANY,
        name: 'Empresa Suporte',
        screen_name: 'empresa_suporte',
        profile_image_url_https: 'https://pbs.twimg.com/profile_images/2/b_normal.jpg',
        protected: false,
        verified: true,
      },
    });
    // What relay mode POSTs to 4biz: the AAA shape its Omnichannel receiver knows.
    expect(singleEventPayload(message!)).toEqual({ for_user_id: COMPANY, direct_message_events: [event], users: message!.raw.users });
  });

  it('gives an AAA and an XAA delivery of the same DM the same event id (one de-duplication key)', () => {
    const xaa = fixture('xaa-dm-received.json');
    const aaa = {
      for_user_id: COMPANY,
      direct_message_events: xaa.data.payload.direct_message_events,
      users: { '2900000000000000077': { id: '2900000000000000077', id_str: '2900000000000000077', name: 'João Pereira', screen_name: 'joao_pereira' } },
    };
    const a = readJson(aaa);
    const x = read('xaa-dm-received.json');
    if (!a.accepted || !x.accepted) throw new Error('rejected');
    expect(a.delivery.messages.map((m) => [m.eventId, m.sender, m.text])).toEqual(x.delivery.messages.map((m) => [m.eventId, m.sender, m.text]));
  });

  it('never forwards dm.sent: the account’s own DM is an echo', () => {
    expect(read('xaa-dm-sent.json')).toEqual({
      accepted: true,
      delivery: { messages: [], skipped: [{ eventId: '1861000000000000402', reason: 'echo' }], ignoredKinds: [] },
      notice: undefined,
    });
  });

  it('reports chat.received as an encrypted DM with its sender, forwarding nothing', () => {
    expect(read('xaa-chat-received.json')).toMatchObject({
      accepted: true,
      delivery: { messages: [] },
      notice: { kind: 'encrypted-dm', senderId: '2900000000000000088', eventUuid: '8511582263942905822' },
    });
  });

  it('reports oauth.revoke of the tenant’s account as access revoked, of another account as foreign', () => {
    expect(read('xaa-oauth-revoke.json')).toMatchObject({ accepted: true, delivery: { messages: [] }, notice: { kind: 'access-revoked', userId: COMPANY } });
    expect(read('xaa-oauth-revoke.json', OTHER)).toMatchObject({ accepted: true, notice: { kind: 'foreign-account', userId: COMPANY } });
  });

  it.each(['xaa-dm-received.json', 'xaa-dm-sent.json', 'xaa-chat-received.json'])('drops %s for another account (200, counted, nothing forwarded)', (name) => {
    expect(read(name, OTHER)).toMatchObject({ accepted: true, delivery: { messages: [], skipped: [] }, notice: { kind: 'foreign-account', userId: COMPANY } });
  });

  it.each(['dm.read', 'dm.indicate_typing', 'chat.sent', 'follow.follow'])('acknowledges %s without forwarding it', (eventType) => {
    const verdict = readJson({ data: { event_uuid: '1', filter: { user_id: COMPANY }, event_type: eventType, payload: {} } });
    expect(verdict).toMatchObject({ accepted: true, delivery: { messages: [] }, notice: { kind: 'ignored', eventType } });
  });

  it('acknowledges X’s replay-job status post', () => {
    const verdict = readJson({ replay_job_status: { webhook_id: '1', job_state: 'Complete', job_state_description: 'Job completed successfully', job_id: '42' } });
    expect(verdict).toMatchObject({ accepted: true, notice: { kind: 'replay-job', jobId: '42', state: 'Complete' } });
  });

  it('labels users by their own id: a users key cannot give the sender another name', () => {
    const xaa = fixture('xaa-dm-received.json');
    const joao = xaa.data.payload.users['2900000000000000077'];
    xaa.data.payload.users = { '2900000000000000077': { data: { ...joao.data, id: '2900000000000000099', username: 'impostor' } } };
    const verdict = readJson(xaa);
    if (!verdict.accepted) throw new Error(verdict.reason);
    expect(verdict.delivery.messages[0]!.sender).toEqual({ id: '2900000000000000077', handle: undefined, name: undefined });
    // The sender X did not describe gets the minimal v1.1 entry (ids only); the impostor entry is not carried.
    expect(verdict.delivery.messages[0]!.raw.users).toEqual({
      '2900000000000000077': { id: '2900000000000000077', id_str: '2900000000000000077', protected: false, verified: false },
    });
  });

  // The fixture as parsed JSON: the mutations below reach into it freely.
  type Json = { data: { filter: Record<string, unknown>; payload: { direct_message_events?: Array<{ message_create: Record<string, unknown> }>; users: Record<string, { data: Record<string, unknown> }> } } & Record<string, unknown> };
  const mutate = (f: (d: Json) => void) => {
    const d = fixture('xaa-dm-received.json');
    f(d);
    return d;
  };
  const bad: [string, unknown][] = [
    ['a filter.user_id that is not decimal digits', mutate((d) => (d.data.filter.user_id = '14000000000000000x1'))],
    ['no filter.user_id on a DM event', mutate((d) => (d.data.filter = {}))],
    ['a sender id that is not decimal digits', mutate((d) => (d.data.payload.direct_message_events![0]!.message_create.sender_id = '../admin'))],
    ['no direct_message_events', mutate((d) => delete d.data.payload.direct_message_events)],
    ['no event_type', mutate((d) => delete d.data.event_type)],
    ['an oauth.revoke without user_id', { data: { event_uuid: '1', filter: {}, event_type: 'oauth.revoke', payload: { app_id: '1' } } }],
  ];
  it.each(bad)('answers 400 to %s', (_what, json) => {
    expect(readJson(json)).toMatchObject({ accepted: false, status: 400, reason: expect.any(String) });
  });

  // Issue 18 §1: a users entry is content. One that names no decimal user is left out, the DM kept.
  it('forwards the DM without the names of a users entry whose id is not decimal digits', () => {
    const verdict = readJson(mutate((d) => (d.data.payload.users['2900000000000000077'].data.id = 'joao')));
    if (!verdict.accepted) throw new Error(verdict.reason);
    expect(verdict.delivery.messages.map((m) => m.sender)).toEqual([{ id: '2900000000000000077', handle: undefined, name: undefined }]);
    expect(JSON.stringify(verdict.delivery.messages[0]!.raw.users)).not.toContain('joao');
  });

  it('tells AAA bodies from XAA ones', () => {
    expect(isXaaBody(fixture('dm-received.json'))).toBe(false);
    expect(isXaaBody({ data: [] })).toBe(false);
    expect(isXaaBody(null)).toBe(false);
    expect(readXaaBody({ data: { event_type: 'dm.received' } }, COMPANY)).toMatchObject({ ok: false });
  });

  it('never throws on arbitrary XAA-like envelopes: 200 with what it understood, or a 400', () => {
    const id = fc.oneof(fc.constant(COMPANY), fc.stringMatching(/^\d{1,20}$/), fc.string());
    const user = fc.record({ data: fc.record({ id, username: fc.option(fc.string(), { nil: undefined }), name: fc.option(fc.string(), { nil: undefined }) }) });
    const dmEvent = fc.record({
      type: fc.oneof(fc.constant('message_create'), fc.string()),
      id: fc.stringMatching(/^\d{1,20}$/),
      created_timestamp: fc.stringMatching(/^\d{1,13}$/),
      message_create: fc.record({ sender_id: id, target: fc.record({ recipient_id: id }), message_data: fc.record({ text: fc.string() }) }),
    });
    const envelope = fc.record({
      data: fc.record({
        event_uuid: fc.string(),
        filter: fc.oneof(fc.constant({}), fc.record({ user_id: id })),
        event_type: fc.constantFrom('dm.received', 'dm.sent', 'dm.read', 'chat.received', 'oauth.revoke', 'follow.follow'),
        payload: fc.oneof(
          fc.record({ direct_message_events: fc.array(dmEvent, { maxLength: 3 }), users: fc.dictionary(fc.string(), user, { maxKeys: 3 }) }),
          fc.record({ user_id: id, sender_id: id }),
          fc.anything(),
        ),
      }),
    });
    fc.assert(
      fc.property(envelope, (json) => {
        const verdict = readJson(json);
        if (!verdict.accepted) expect(verdict.status).toBe(400);
        // Whatever is forwarded belongs to the tenant's account and was sent to it by someone else.
        else for (const m of verdict.delivery.messages) expect([m.forUserId, m.sender.id === COMPANY]).toEqual([COMPANY, false]);
      }),
      { numRuns: 500 },
    );
  });
});
