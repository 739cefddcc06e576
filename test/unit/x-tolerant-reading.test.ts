import { testObservability } from '../support/observability';
import { refusingParking } from '../support/parking';
import { createWebhookHandler } from '../../functions/webhook/handler';
import { staticSecretSource } from '../../functions/adapters/secrets';
import type { InboundMessage } from '../../functions/core/x-events';
import { signPayload } from '../../functions/core/x-signature';
import { fixtureAccountId, fixtureBytes, fixtureClock, httpEvent, lambdaContext, testSecret, vectors } from '../support/x-fixtures';

/**
 * Issue 18 §1: strict on authenticity, tolerant on content. Every shape X documents for its
 * deliveries ("field availability can vary") reaches 4biz; before, each was a 400 and X gave up.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON tree a test bends freely
type Json = any;
const xaa = (): Json => JSON.parse(fixtureBytes('xaa-dm-received.json').toString());
const aaa = (): Json => JSON.parse(fixtureBytes('dm-received.json').toString());
const xaaSender = '2900000000000000077';

function setup() {
  const sent: InboundMessage[] = [];
  const observability = testObservability();
  const handler = createWebhookHandler({ parking: refusingParking, ...observability, secrets: staticSecretSource(testSecret), queue: { send: async (m) => void sent.push(...m) }, xAccountId: fixtureAccountId, clock: fixtureClock });
  const post = async (body: unknown) => {
    const bytes = Buffer.from(JSON.stringify(body));
    return handler(httpEvent({ body: bytes, headers: { 'x-twitter-webhooks-signature': signPayload(vectors.consumerSecret, bytes) } }), lambdaContext);
  };
  return { post, sent, published: observability.published };
}

describe('X Activity API dm.received: the users map varies', () => {
  it.each<[string, (users: Json) => void, { handle?: string; name?: string }]>([
    ['a users entry without data (the v2 user itself)', (u) => (u[xaaSender] = u[xaaSender].data), { handle: 'joao_pereira', name: 'João Pereira' }],
    ['a users entry without data or anything usable', (u) => (u[xaaSender] = {}), {}],
    ['a users entry without names', (u) => (u[xaaSender] = { data: { id: xaaSender } }), {}],
    ['a users entry whose names are not strings', (u) => (u[xaaSender].data.name = null), { handle: undefined, name: undefined }],
    ['no entry for the sender', (u) => delete u[xaaSender], {}],
  ])('forwards the DM once for %s', async (_, bend, sender) => {
    const t = setup();
    const body = xaa();
    bend(body.data.payload.users);
    const res = await t.post(body);
    expect(res.statusCode).toBe(200);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]).toMatchObject({ eventId: '1861000000000000401', sender: { id: xaaSender, ...sender } });
    // 4biz always finds the sender in users (ids at least).
    expect(t.sent[0].raw.users[xaaSender]).toMatchObject({ id: xaaSender, id_str: xaaSender });
  });

  it('forwards the DM when the payload has no users map at all', async () => {
    const t = setup();
    const body = xaa();
    delete body.data.payload.users;
    expect((await t.post(body)).statusCode).toBe(200);
    expect(t.sent.map((m) => m.sender.id)).toEqual([xaaSender]);
  });

  it.each([['-6850472171600526495'], [-6850472171600526]])('takes a negative event_uuid (%p), as in X\'s examples', async (uuid) => {
    const t = setup();
    const body = xaa();
    body.data.event_uuid = uuid;
    expect((await t.post(body)).statusCode).toBe(200);
    expect(t.sent).toHaveLength(1);
  });
});

describe('Account Activity deliveries: fields vary', () => {
  it('reads a v1.1 users entry whose id is a number, by its id_str', async () => {
    const t = setup();
    const body = aaa();
    const [id, entry] = Object.entries(body.users as Record<string, Json>).find(([k]) => k !== fixtureAccountId)!;
    body.users[id] = { ...entry, id: Number(id), id_str: id };
    expect((await t.post(body)).statusCode).toBe(200);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0].sender).toMatchObject({ id, name: entry.name, handle: entry.screen_name });
  });

  it('reads a created_timestamp sent as a number', async () => {
    const t = setup();
    const body = aaa();
    const event = body.direct_message_events[0];
    event.created_timestamp = Number(event.created_timestamp);
    expect((await t.post(body)).statusCode).toBe(200);
    expect(t.sent[0].createdTimestamp).toBe(String(event.created_timestamp));
  });

  it('keeps a video DM: its best MP4 variant, not only the preview image', async () => {
    const t = setup();
    const body = aaa();
    body.direct_message_events[0].message_create.message_data.attachment = {
      type: 'media',
      media: {
        id_str: '1861000000000000999',
        type: 'video',
        media_url_https: 'https://pbs.twimg.com/dm_video_preview/1861000000000000999/img/p.jpg',
        video_info: { variants: [{ bitrate: 832000, content_type: 'video/mp4', url: 'https://video.twimg.com/dm_video/1/vid/640x360/a.mp4' }, { content_type: 'application/x-mpegURL', url: 'https://video.twimg.com/dm_video/1/pl/a.m3u8' }, { bitrate: 2176000, content_type: 'video/mp4', url: 'https://video.twimg.com/dm_video/1/vid/1280x720/b.mp4' }] },
      },
    };
    expect((await t.post(body)).statusCode).toBe(200);
    expect(t.sent[0].attachments).toEqual([expect.objectContaining({ mediaType: 'video', url: 'https://video.twimg.com/dm_video/1/vid/1280x720/b.mp4' })]);
  });

  it("answers AAA's revoke delivery (no for_user_id) 2xx and raises XAccessRevoked", async () => {
    const t = setup();
    const res = await t.post({ user_event: { revoke: { date_time: '2026-11-30T09:48:12+00:00', target: { app_id: '13090192' }, source: { user_id: fixtureAccountId } } } });
    expect(res.statusCode).toBe(200);
    expect(t.sent).toEqual([]);
    expect(t.published()).toEqual({ XAccessRevoked: 1 });
  });

  it("drops another account's revoke, counted, answered 2xx", async () => {
    const t = setup();
    const res = await t.post({ user_event: { revoke: { date_time: '2026-11-30T09:48:12+00:00', target: { app_id: '13090192' }, source: { user_id: '1400000000000000999' } } } });
    expect(res.statusCode).toBe(200);
    expect(t.published()).toEqual({ ForeignAccountDropped: 1 });
  });
});
