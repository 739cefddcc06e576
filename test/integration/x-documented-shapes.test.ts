import '../support/test-env';
import { signPayload } from '../../functions/core/x-signature';
import type { LocalBridge } from '../../local/start';
import { startTestBridge } from '../support/local-bridge';
import { sampleDelivery } from '../../local/demo';
import { until } from '../support/until';

/**
 * Issue 18 §1's acceptance against the local runner (`npm start` in-process, relay mode): every
 * delivery shape X documents reaches 4biz once (X retries each, as it does); AAA's revoke delivery is
 * answered 2xx and forwards nothing. Before, each of these was a 400: X gave up and the DM was lost.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON tree the shapes bend freely
type Json = any;

describe("local bridge: X's documented delivery shapes", () => {
  let bridge: LocalBridge;
  beforeAll(async () => {
    bridge = await startTestBridge();
  }, 30_000);
  afterAll(() => bridge?.stop());

  const post = (body: unknown) => {
    const bytes = Buffer.from(JSON.stringify(body));
    return fetch(bridge.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': signPayload(bridge.consumerSecret, bytes) }, body: bytes });
  };

  /** An AAA delivery of a fresh DM, and the same DM as an X Activity API dm.received. */
  const aaa = () => {
    const dm = sampleDelivery(bridge.tenant.xAccountId);
    return { dm, body: JSON.parse(dm.body.toString('utf8')) as Json };
  };
  const xaa = (bend: (payload: Json) => void) => {
    const { dm, body } = aaa();
    const sender = body.users[dm.senderId];
    const payload = { direct_message_events: body.direct_message_events, users: { [dm.senderId]: { data: { id: dm.senderId, username: sender.screen_name, name: sender.name } } } };
    bend(payload);
    return { dm, body: { data: { event_uuid: '-6850472171600526495', filter: { user_id: bridge.tenant.xAccountId }, event_type: 'dm.received', tag: 'dm', payload } } };
  };

  const shapes: Array<[string, () => { dm: { eventId: string }; body: unknown }]> = [
    ['XAA: a users entry without data', () => xaa((p) => Object.keys(p.users).forEach((k) => (p.users[k] = p.users[k].data)))],
    ['XAA: a users entry with nothing usable', () => xaa((p) => Object.keys(p.users).forEach((k) => (p.users[k] = {})))],
    ['XAA: a users entry whose name is not a string', () => xaa((p) => Object.keys(p.users).forEach((k) => (p.users[k].data.name = null)))],
    ['XAA: no users map', () => xaa((p) => delete p.users)],
    [
      'AAA: a users entry with a numeric id and id_str',
      () => {
        const { dm, body } = aaa();
        body.users[dm.senderId] = { ...body.users[dm.senderId], id: Number(dm.senderId), id_str: dm.senderId };
        return { dm, body };
      },
    ],
    [
      'AAA: a created_timestamp as a number',
      () => {
        const { dm, body } = aaa();
        body.direct_message_events[0].created_timestamp = Number(body.direct_message_events[0].created_timestamp);
        return { dm, body };
      },
    ],
  ];

  it.each(shapes)('%s reaches 4biz once, X retrying included', async (_, make) => {
    const { dm, body } = make();
    expect((await post(body)).status).toBe(200);
    expect((await post(body)).status).toBe(200);
    await until('the DM at 4biz', () => bridge.omnichannel!.deliveries.find((d) => d.eventId === dm.eventId), 10_000);
    // Time for a duplicate to show up.
    await new Promise((r) => setTimeout(r, 500));
    expect(bridge.omnichannel!.deliveries.filter((d) => d.eventId === dm.eventId)).toHaveLength(1);
  });

  it("answers AAA's revoke delivery 2xx and forwards nothing", async () => {
    const before = bridge.omnichannel!.deliveries.length;
    const res = await post({ user_event: { revoke: { date_time: new Date().toISOString(), target: { app_id: '13090192' }, source: { user_id: bridge.tenant.xAccountId } } } });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(bridge.omnichannel!.deliveries.length).toBe(before);
  });
});
