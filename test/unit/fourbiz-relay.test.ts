import { createServer, type Server } from 'node:http';
import { FourbizAuthError, PermanentError, TransientError } from '../../functions/core/errors';
import { accountActivitySchema, normaliseDelivery, type InboundMessage } from '../../functions/core/x-events';
import { SIGNATURE_HEADER, verifySignature } from '../../functions/core/x-signature';
import { createRelayClient, IDEMPOTENCY_HEADER } from '../../functions/adapters/fourbiz/relay';
import { createFourbizClient } from '../../functions/adapters/fourbiz';
import type { SecretSource } from '../../functions/adapters/secrets';
import { openConversation } from '../../functions/core/conversation';
import { fixtureBytes, testSecret } from '../support/x-fixtures';

const callbackUrl = 'https://empresa.4biz.one/omnichannel/twitter/callback/abc';
const [message] = normaliseDelivery(accountActivitySchema.parse(JSON.parse(fixtureBytes('dm-received.json').toString('utf8')))).messages as [InboundMessage];
const conversation = openConversation(message.sender, new Date(0));

function secrets(): SecretSource & { invalidations: number } {
  const s = { invalidations: 0, get: async () => testSecret, invalidate: () => void s.invalidations++ };
  return s;
}

function fakeFetch(answer: () => Promise<Response> | Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const f = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer();
  }) as unknown as typeof fetch;
  return { f, calls };
}

const settings = { mode: 'relay' as const, callbackUrl, timeoutMs: 5_000 };

describe('4biz relay client', () => {
  it('POSTs one Account Activity payload, signed with the consumer secret over the exact bytes sent', async () => {
    const { f, calls } = fakeFetch(() => new Response('{}', { status: 200 }));
    await expect(createRelayClient(settings, secrets(), { fetch: f }).deliver(message, conversation)).resolves.toEqual({});
    expect(calls).toHaveLength(1);
    const { url, init } = calls[0];
    expect(url).toBe(callbackUrl);
    expect(init.method).toBe('POST');
    const headers = init.headers as Record<string, string>;
    expect(headers['content-type']).toBe('application/json');
    const sent = init.body as Buffer;
    expect(verifySignature(testSecret.consumerSecret, sent, headers[SIGNATURE_HEADER])).toBe(true);
    const body = JSON.parse(sent.toString('utf8'));
    expect(body.for_user_id).toBe('1400000000000000001');
    expect(body.direct_message_events).toHaveLength(1);
    expect(body.direct_message_events[0].id).toBe(message.eventId);
    expect(Object.keys(body.users).sort()).toEqual(['1400000000000000001', '2900000000000000042']);
    expect(init.signal).toBeInstanceOf(AbortSignal);
    // A receiver can de-duplicate a repeated delivery (issue 8 §7).
    expect(headers[IDEMPOTENCY_HEADER]).toBe(message.eventId);
  });

  it('gives 4biz a users entry for a sender X did not describe', async () => {
    const body = JSON.parse(fixtureBytes('dm-received.json').toString('utf8'));
    delete body.users['2900000000000000042'];
    const [bare] = normaliseDelivery(accountActivitySchema.parse(body)).messages as [InboundMessage];
    const { f, calls } = fakeFetch(() => new Response('{}', { status: 200 }));
    await createRelayClient(settings, secrets(), { fetch: f }).deliver(bare, conversation);
    const sent = JSON.parse((calls[0].init.body as Buffer).toString('utf8'));
    expect(sent.users['2900000000000000042']).toMatchObject({ id: '2900000000000000042', id_str: '2900000000000000042' });
  });

  it.each([400, 413, 415, 422])('a %i from 4biz (the DM itself is wrong) is a permanent failure carrying the status', async (status) => {
    const { f } = fakeFetch(() => new Response('{"error":"nope"}', { status, headers: { 'content-type': 'application/json' } }));
    const err = await createRelayClient(settings, secrets(), { fetch: f }).deliver(message, conversation).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ status, message: expect.stringContaining(String(status)) });
  });

  // A redeploy: the route is gone for a while, or a proxy answers with its own page. Not a verdict on the DM.
  it.each([
    [404, 'application/json'],
    [405, 'text/plain'],
    [410, 'text/plain'],
    [400, 'text/html; charset=utf-8'],
    [422, 'text/html'],
  ])('a %i (%s) during a redeploy is transient', async (status, contentType) => {
    const { f } = fakeFetch(() => new Response('<html><body>Em manutenção</body></html>', { status, headers: { 'content-type': contentType } }));
    const err = await createRelayClient(settings, secrets(), { fetch: f }).deliver(message, conversation).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ status });
  });

  it('reads at most 64 KiB of an error page for its excerpt, however long the page', async () => {
    let pulled = 0;
    const chunk = new Uint8Array(16 * 1024).fill(0x61);
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += chunk.byteLength;
        c.enqueue(chunk);
      },
    });
    const { f } = fakeFetch(() => new Response(endless, { status: 503, headers: { 'content-type': 'text/html' } }));
    const err = await createRelayClient(settings, secrets(), { fetch: f }).deliver(message, conversation).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toContain('body not read: over the 65536-byte cap');
    expect(pulled).toBeLessThanOrEqual(128 * 1024);
  });

  it.each([408, 429, 500, 502, 503])('a %i is transient (retried)', async (status) => {
    const { f } = fakeFetch(() => new Response('busy', { status }));
    const err = await createRelayClient(settings, secrets(), { fetch: f }).deliver(message, conversation).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ status });
  });

  it.each([401, 403])('a %i is an auth failure: retried (never the DLQ at once), and the secret re-read', async (status) => {
    const s = secrets();
    const { f } = fakeFetch(() => new Response('', { status }));
    const err = await createRelayClient(settings, s, { fetch: f }).deliver(message, conversation).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FourbizAuthError);
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ status });
    expect(s.invalidations).toBe(1);
  });

  it.each([301, 302, 307])('never follows a %i (a maintenance page during a redeploy): transient, the DM is retried', async (status) => {
    const { f, calls } = fakeFetch(() => new Response(null, { status, headers: { location: 'https://login.example/' } }));
    const err = await createRelayClient(settings, secrets(), { fetch: f }).deliver(message, conversation).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toContain('https://login.example/');
    expect(calls[0].init.redirect).toBe('manual');
  });

  it('a connection error is transient', async () => {
    const { f } = fakeFetch(() => Promise.reject(new TypeError('fetch failed')));
    await expect(createRelayClient(settings, secrets(), { fetch: f }).deliver(message, conversation)).rejects.toBeInstanceOf(TransientError);
  });

  describe('against a 4biz that never answers', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer(() => undefined);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const addr = server.address();
      url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/cb`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    it('gives up after the configured timeout with a transient error', async () => {
      const started = Date.now();
      const err = await createRelayClient({ mode: 'relay', callbackUrl: url, timeoutMs: 150 }, secrets()).deliver(message, conversation).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransientError);
      expect((err as Error).message).toContain('150 ms');
      expect(Date.now() - started).toBeLessThan(2_000);
    });
  });

  it('the factory picks the relay implementation for relay tenants', () => {
    expect(createFourbizClient(settings, secrets()).mode).toBe('relay');
  });
});
