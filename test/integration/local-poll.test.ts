import '../support/test-env';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { LocalBridge } from '../../local/start';
import { testEmulators } from '../support/local-bridge';
import { parseLocalSettings } from '../../local/local-config';
import { until } from '../support/until';

/**
 * `npm start` with X_INGESTION=poll, in-process on the test emulators: no webhook, the DM poller
 * reads the X simulator's GET /2/dm_events, and `npm run demo` shows a DM going end to end.
 */
jest.setTimeout(60_000);
const root = join(__dirname, '..', '..');

describe('local bridge polling X (X_INGESTION=poll)', () => {
  let bridge: LocalBridge;
  let banner: (b: LocalBridge) => string;
  beforeAll(async () => {
    const settings = parseLocalSettings({ X_INGESTION: 'poll', X_POLL_INTERVAL_SECONDS: '0.2' });
    await jest.isolateModulesAsync(async () => {
      const start = await import('../../local/start');
      banner = start.banner;
      bridge = await start.startLocalBridge({ ...settings, port: 0, emulators: testEmulators(), uniqueNames: true });
    });
  }, 30_000);
  afterAll(() => bridge?.stop());

  it('says it is polling, and has no webhook (the path answers 404)', async () => {
    expect(bridge.ingestion).toBe('poll');
    expect(banner(bridge)).toMatch(/polling GET \/2\/dm_events every 0\.2 s \(no webhook\)/);
    expect((await fetch(`${bridge.webhookUrl}?crc_token=hello`)).status).toBe(404);
    const status = (await (await fetch(`${bridge.url}/_local/status`)).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ ingestion: 'poll', xPollIntervalMs: 200 });
  });

  it('relays a DM added to the X simulator on its own schedule, as a signed Account Activity payload', async () => {
    await until('the first GET /2/dm_events', () => bridge.xApi!.requests.some((r) => r.path === '/2/dm_events'), 15_000);
    const eventId = bridge.xApi!.addDmEvent({ senderId: '2900000000000000077', username: 'joao', name: 'João', text: 'Olá pelo polling' });
    const delivery = await until('the DM at 4biz', () => bridge.omnichannel!.deliveries.find((d) => d.eventId === eventId), 15_000);
    expect(delivery.body).toMatchObject({
      for_user_id: bridge.tenant.xAccountId,
      direct_message_events: [{ id: eventId, message_create: { sender_id: '2900000000000000077', target: { recipient_id: bridge.tenant.xAccountId }, message_data: { text: 'Olá pelo polling' } } }],
      users: { '2900000000000000077': { screen_name: 'joao' } },
    });
  });

  // Issue 18 §1: shapes X documents for polled events, each lost before.
  it('relays a DM whose links X put at the top level, and a video (variants, no url), once each', async () => {
    await until('the first GET /2/dm_events', () => bridge.xApi!.requests.some((r) => r.path === '/2/dm_events'), 15_000);
    const x = bridge.xApi!;
    const link = x.addDmEvent({ senderId: '2900000000000000078', text: 'veja https://t.co/top1', urls: [{ url: 'https://t.co/top1', expandedUrl: 'https://example.com/top' }], urlsAt: 'top' });
    const video = x.addDmEvent({
      senderId: '2900000000000000078',
      text: '',
      video: { type: 'video', preview_image_url: 'https://pbs.twimg.com/dm_video_preview/9/p.jpg', variants: [{ url: 'https://video.twimg.com/dm_video/9/vid/1280x720/v.mp4', content_type: 'video/mp4', bit_rate: 2176000 }] },
    });
    const linked = await until('the link DM at 4biz', () => bridge.omnichannel!.deliveries.find((d) => d.eventId === link), 15_000);
    expect(linked.body.direct_message_events?.[0]?.message_create?.message_data?.entities?.urls?.[0]).toMatchObject({ url: 'https://t.co/top1', expanded_url: 'https://example.com/top' });
    const filmed = await until('the video DM at 4biz', () => bridge.omnichannel!.deliveries.find((d) => d.eventId === video), 15_000);
    expect(filmed.body.direct_message_events?.[0]?.message_create?.message_data?.attachment?.media).toMatchObject({
      media_url_https: 'https://pbs.twimg.com/dm_video_preview/9/p.jpg',
      video_info: { variants: [expect.objectContaining({ url: 'https://video.twimg.com/dm_video/9/vid/1280x720/v.mp4' })] },
    });
    await new Promise((r) => setTimeout(r, 600));
    expect(bridge.omnichannel!.deliveries.filter((d) => d.eventId === link || d.eventId === video)).toHaveLength(2);
  });

  it('npm run demo adds a DM to the X simulator and shows it reaching 4biz', async () => {
    const port = new URL(bridge.url).port;
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'local/demo.ts'], { cwd: root, env: { PATH: process.env.PATH, PORT: port } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/DM event \d+ is in the X simulator; the bridge polls GET \/2\/dm_events/);
    expect(out.stdout).toContain('4biz Omnichannel (simulator) received it, signature verified');
    const demo = bridge.omnichannel!.deliveries.find((d) => d.senderId === '2900000000000000042');
    // The fixture's t.co link travels as X's entities, as from a webhook.
    expect(demo?.body.direct_message_events?.[0]?.message_create?.message_data.entities?.urls).toEqual([
      expect.objectContaining({ url: 'https://t.co/abc123', expanded_url: expect.stringMatching(/^https:\/\//) }),
    ]);
  });
});
