import type { SecretSource } from '../../functions/adapters/secrets';
import { XAuthError } from '../../functions/adapters/x-client';
import { createDmEventsSource } from '../../functions/adapters/x-dm-events';
import { readDmEventsPage } from '../../functions/core/dm-events';
import { TransientError } from '../../functions/core/errors';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';

const ana = '2900000000000000099';

function secretsFor(sim: XApiSimulator, accessTokenSecret = sim.credentials.accessTokenSecret): SecretSource {
  const { consumerKey, consumerSecret, accessToken } = sim.credentials;
  return { get: async () => ({ consumerKey, consumerSecret, accessToken, accessTokenSecret }), invalidate: () => undefined };
}

describe('DM lookup adapter (twitter-api-v2, OAuth 1.0a) against the X simulator', () => {
  let sim: XApiSimulator;
  beforeEach(async () => {
    sim = await startXApiSimulator({ accountId: '1400000000000000001' });
  });
  afterEach(() => sim.close());

  it('reads DMs newest first with the fields and expansions the core needs, page by page', async () => {
    const first = sim.addDmEvent({ senderId: ana, username: 'ana_lima', name: 'Ana Lima', text: 'olá https://t.co/a1', urls: [{ url: 'https://t.co/a1', expandedUrl: 'https://example.com/p/1' }] });
    const second = sim.addDmEvent({ senderId: ana, text: 'foto', mediaUrl: 'https://ton.twitter.com/1.1/ton/data/dm/1/2/x.jpg' });
    const source = createDmEventsSource(secretsFor(sim), { baseUrl: sim.url });

    const page = readDmEventsPage(await source.page(undefined, 100), sim.accountId);
    expect(page.events.map((e) => e.id)).toEqual([second, first]);
    const [photo, link] = page.events;
    if (photo?.kind !== 'message' || link?.kind !== 'message') throw new Error('expected messages');
    expect(link.message).toMatchObject({ text: 'olá https://example.com/p/1', sender: { id: ana, handle: 'ana_lima', name: 'Ana Lima' } });
    expect(photo.message.attachments).toEqual([expect.objectContaining({ type: 'media', mediaType: 'photo', url: 'https://ton.twitter.com/1.1/ton/data/dm/1/2/x.jpg' })]);
    const lookup = sim.requests.find((r) => r.path === '/2/dm_events');
    expect(readDmEventsPage(await source.page(undefined, 1), sim.accountId).events.map((e) => e.id)).toEqual([second]);
    expect(lookup).toMatchObject({ method: 'GET', status: 200 });
  });

  // Issue 18 §1: shapes X documents for polled DM events, both lost before.
  it('reads links X puts at the top level of a polled event', async () => {
    sim.addDmEvent({ senderId: ana, text: 'veja https://t.co/b2', urls: [{ url: 'https://t.co/b2', expandedUrl: 'https://example.com/p/2' }], urlsAt: 'top' });
    const page = readDmEventsPage(await createDmEventsSource(secretsFor(sim), { baseUrl: sim.url }).page(undefined, 100), sim.accountId);
    expect(page.events).toEqual([expect.objectContaining({ kind: 'message', message: expect.objectContaining({ text: 'veja https://example.com/p/2' }) })]);
  });

  it('keeps a video or GIF, which has preview_image_url and variants instead of url', async () => {
    const variants = [
      { url: 'https://video.twimg.com/dm_video/1/vid/320x240/low.mp4', content_type: 'video/mp4', bit_rate: 256000 },
      { url: 'https://video.twimg.com/dm_video/1/pl/list.m3u8', content_type: 'application/x-mpegURL' },
      { url: 'https://video.twimg.com/dm_video/1/vid/1280x720/high.mp4', content_type: 'video/mp4', bit_rate: 2176000 },
    ];
    sim.addDmEvent({ senderId: ana, text: '', video: { type: 'video', preview_image_url: 'https://pbs.twimg.com/dm_video_preview/1/img/p.jpg', variants } });
    sim.addDmEvent({ senderId: ana, text: 'gif', video: { type: 'animated_gif', preview_image_url: 'https://pbs.twimg.com/dm_gif_preview/2/p.jpg', variants: [{ url: 'https://video.twimg.com/dm_gif/2/g.mp4', content_type: 'video/mp4', bit_rate: 0 }] } });
    const page = readDmEventsPage(await createDmEventsSource(secretsFor(sim), { baseUrl: sim.url }).page(undefined, 100), sim.accountId);
    const attachments = page.events.map((e) => (e.kind === 'message' ? e.message.attachments : []));
    expect(attachments).toEqual([
      [expect.objectContaining({ type: 'media', mediaType: 'animated_gif', url: 'https://video.twimg.com/dm_gif/2/g.mp4' })],
      [expect.objectContaining({ type: 'media', mediaType: 'video', url: 'https://video.twimg.com/dm_video/1/vid/1280x720/high.mp4' })],
    ]);
    // Relay mode forwards the v1.1 shape 4biz knows: the preview as media_url_https, the files as video_info.
    const video = page.events[1];
    if (video?.kind !== 'message') throw new Error('expected a message');
    expect(video.message.raw.event.message_create?.message_data.attachment?.media).toMatchObject({
      media_url_https: 'https://pbs.twimg.com/dm_video_preview/1/img/p.jpg',
      video_info: { variants: expect.arrayContaining([expect.objectContaining({ url: variants[2]!.url, bitrate: 2176000 })]) },
    });
  });

  it('follows meta.next_token to older pages', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => sim.addDmEvent({ senderId: ana, text: `m${i}` }));
    const source = createDmEventsSource(secretsFor(sim), { baseUrl: sim.url });
    const one = readDmEventsPage(await source.page(undefined, 100), sim.accountId);
    const two = readDmEventsPage(await source.page(one.nextToken, 100), sim.accountId);
    expect(one.events).toHaveLength(100);
    expect([...one.events, ...two.events].map((e) => e.id)).toEqual([...ids].reverse());
    expect(two.nextToken).toBeUndefined();
  });

  it('a 429 comes back as a retryable error carrying x-rate-limit-reset', async () => {
    const resetAt = Math.floor(Date.now() / 1000) + 600;
    sim.failDmLookupNext(1, { status: 429, resetAt });
    const err = await createDmEventsSource(secretsFor(sim), { baseUrl: sim.url }).page(undefined, 5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).retryAt).toBe(resetAt * 1000);
  });

  it('refused keys (401: the simulator checks the OAuth 1.0a signature) and a 403 are auth errors', async () => {
    await expect(createDmEventsSource(secretsFor(sim, 'wrong'), { baseUrl: sim.url }).page(undefined, 5)).rejects.toBeInstanceOf(XAuthError);
    sim.failDmLookupNext(1, { status: 403 });
    await expect(createDmEventsSource(secretsFor(sim), { baseUrl: sim.url }).page(undefined, 5)).rejects.toBeInstanceOf(XAuthError);
    // A 403 that gives no reason: no recipient can refuse a lookup, so it is the app's or its keys' problem too.
    sim.failDmLookupNext(1, { status: 403, plain: true });
    const err = await createDmEventsSource(secretsFor(sim), { baseUrl: sim.url }).page(undefined, 5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XAuthError);
    expect((err as Error).message).toMatch(/may not read DMs/);
  });
});
