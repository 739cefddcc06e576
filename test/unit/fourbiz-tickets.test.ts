import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ticketsSettingsSchema, type TicketsSettings } from '../../functions/config';
import { createTicketsClient } from '../../functions/adapters/fourbiz/tickets';
import { createXMediaDownloader } from '../../functions/adapters/x-media';
import { compareDecimalIds } from '../../functions/core/decimal-ids';
import { staticSecretSource } from '../../functions/adapters/secrets';
import type { Conversation } from '../../functions/core/conversation';
import { AnswerTooLargeError, FourbizAuthError, PermanentError, RequestFinishedError, TransientError } from '../../functions/core/errors';
import { normaliseDelivery, accountActivitySchema, type InboundMessage } from '../../functions/core/x-events';
import { fixtureBytes, testSecret } from '../support/x-fixtures';
import { startFourbizSimulator, type FourbizSimulator, type OccurrenceListShape } from '../../simulators/fourbiz-rest';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';

const fixtureMessage = (name: string): InboundMessage =>
  normaliseDelivery(accountActivitySchema.parse(JSON.parse(fixtureBytes(name).toString('utf8')))).messages[0];

const withText = (m: InboundMessage, text: string, eventId: string): InboundMessage => ({ ...m, text, eventId });

function conversation(over: Partial<Conversation> = {}): Conversation {
  return {
    xUserId: '2900000000000000042',
    conversationId: 'conv-2900000000000000042-1',
    status: 'OPEN',
    openedAt: '2024-11-25T02:00:00.000Z',
    lastActivityAt: '2024-11-25T02:00:00.000Z',
    messagesIn: 0,
    messagesOut: 0,
    version: 1,
    ...over,
  };
}

const OCCURRENCE = '/services/request/createOccurrence';
const CREATE = '/services/request/create';

describe('4biz tickets client (Citrest, as documented)', () => {
  let sim: FourbizSimulator;
  let settings: TicketsSettings;
  const secrets = () => staticSecretSource({ ...testSecret, fourbizUser: sim.userName, fourbizPassword: sim.password });
  const start = async (listShape?: OccurrenceListShape) => {
    await sim?.close();
    sim = await startFourbizSimulator({ listShape });
    settings = ticketsSettingsSchema.parse({
      mode: 'tickets',
      baseUrl: sim.baseUrl,
      contractId: 1,
      serviceCode: 'ATD-X',
      groupId: 'N1-ATENDIMENTO',
      urgency: 'H',
      impact: 'L',
      // Long enough for a loaded 2-core machine to answer a local login; the late-answer tests answer after twice it.
      timeoutMs: 1_000,
    });
  };

  beforeEach(() => start());
  afterEach(() => sim.close());

  it('opens one request with the documented sourceRequest fields, keyed by the conversation', async () => {
    const client = createTicketsClient(settings, secrets());
    const result = await client.deliver(fixtureMessage('dm-received.json'), conversation());

    expect(sim.requests).toHaveLength(1);
    const request = sim.requests[0];
    expect(result.requestNumber).toBe(String(request.number));
    expect(request.numberOrigin).toBe('conv-2900000000000000042-1');
    expect(request.source).toMatchObject({
      type: 'R',
      userID: '@maria_souza',
      contact: { name: 'Maria Souza (@maria_souza)' },
      contractID: 1,
      service: { code: 'ATD-X' },
      groupId: 'N1-ATENDIMENTO',
      urgency: 'H',
      impact: 'L',
    });
    expect(Object.keys(request.source).filter((k) => /^(activityID|unitID|originID|groupID)$/.test(k))).toEqual([]);
    expect(request.source.description).toContain('Olá! Minha impressora parou de funcionar https://example.com/foto-erro');
    expect(sim.logins()).toBe(1);
  });

  it('adds later DMs as occurrences, in order, each carrying its DM event id as numberOrigin', async () => {
    const client = createTicketsClient(settings, secrets());
    const first = fixtureMessage('dm-received.json');
    const { requestNumber } = await client.deliver(first, conversation());
    await client.deliver(withText(first, 'segunda', 'e2'), conversation({ requestNumber }));
    await client.deliver(withText(first, 'terceira', 'e3'), conversation({ requestNumber }));

    const occurrences = sim.request(requestNumber!).occurrences;
    expect(occurrences.map((o) => [o.numberOrigin, o.description])).toEqual([
      ['e2', 'segunda'],
      ['e3', 'terceira'],
    ]);
    expect(occurrences[0]).toMatchObject({ category: 'Memorando', reason: 'Mensagem do solicitante via X', userID: sim.userName });
    expect(occurrences[0].hour).toMatch(/^\d{2}:\d{2}$/);
  });

  it('a retried create finds the request 4biz already holds: one request, whether it looks first or is refused', async () => {
    const client = createTicketsClient(settings, secrets());
    const first = await client.deliver(fixtureMessage('dm-received.json'), conversation());
    // Redelivered (looks first with getById numberOrigin) and not known as redelivered (4biz refuses the numberOrigin).
    const looked = await client.deliver(fixtureMessage('dm-received.json'), conversation(), { retried: true });
    const refused = await client.deliver(fixtureMessage('dm-received.json'), conversation());
    expect([looked.requestNumber, refused.requestNumber]).toEqual([first.requestNumber, first.requestNumber]);
    expect(sim.requests).toHaveLength(1);
    expect(sim.calls.filter((c) => c.path === CREATE && c.errorCode === 'PARAM')).toHaveLength(1);
  });

  it('a refused create whose look-up fails for now stays retryable (never the DLQ for a request that may exist)', async () => {
    await createTicketsClient(settings, secrets()).deliver(fixtureMessage('dm-received.json'), conversation());
    const lookupDown: typeof fetch = async (input, init) =>
      String(input).endsWith('/request/getById') ? new Response('<html>manutenção</html>', { status: 503 }) : fetch(input, init);
    const client = createTicketsClient(settings, secrets(), { fetch: lookupDown });
    const err = await client.deliver(fixtureMessage('dm-received.json'), conversation()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(sim.requests).toHaveLength(1);
  });

  it('a create that 4biz stored but answered after the timeout yields that request, not a second one', async () => {
    const client = createTicketsClient(settings, secrets());
    sim.answerLate(CREATE, 2_000);
    const result = await client.deliver(fixtureMessage('dm-received.json'), conversation());
    expect(sim.requests).toHaveLength(1);
    expect(result.requestNumber).toBe(String(sim.requests[0].number));
  });

  it('never repeats an occurrence an earlier attempt applied: redelivered, or answered after the timeout', async () => {
    const client = createTicketsClient(settings, secrets());
    const first = fixtureMessage('dm-received.json');
    const { requestNumber } = await client.deliver(first, conversation());
    await client.deliver(withText(first, 'de novo', 'e2'), conversation({ requestNumber }));
    await client.deliver(withText(first, 'de novo', 'e2'), conversation({ requestNumber }), { retried: true });
    sim.answerLate(OCCURRENCE, 2_000);
    await client.deliver(withText(first, 'lenta', 'e3'), conversation({ requestNumber }));
    expect(sim.request(requestNumber!).occurrences.map((o) => o.numberOrigin)).toEqual(['e2', 'e3']);
  });

  it('an expired session (HTTP 412, SESSION) costs one new login and one repeat', async () => {
    const client = createTicketsClient(settings, secrets());
    const first = fixtureMessage('dm-received.json');
    const { requestNumber } = await client.deliver(first, conversation());
    sim.expireSessions();
    await client.deliver(withText(first, 'depois da expiração', 'e2'), conversation({ requestNumber }));

    expect(sim.calls.filter((c) => c.status === 412 && c.errorCode === 'SESSION')).toHaveLength(1);
    expect(sim.logins()).toBe(2);
    expect(sim.request(requestNumber!).occurrences.map((o) => o.description)).toEqual(['depois da expiração']);
  });

  it('with sessions expiring every 3 calls, every call still goes through, one login per expiry', async () => {
    sim.expireSessionsEvery(3);
    const client = createTicketsClient(settings, secrets());
    const first = fixtureMessage('dm-received.json');
    const { requestNumber } = await client.deliver(first, conversation());
    for (let i = 2; i <= 7; i++) await client.deliver(withText(first, `m${i}`, `e${i}`), conversation({ requestNumber }));
    const expiries = sim.calls.filter((c) => c.status === 412).length;
    expect(sim.request(requestNumber!).occurrences).toHaveLength(6);
    expect(expiries).toBeGreaterThanOrEqual(3);
    expect(sim.logins()).toBe(expiries + 1);
  });

  it('shares one new login among calls that saw the same expired session', async () => {
    const client = createTicketsClient(settings, secrets());
    const { requestNumber } = await client.deliver(fixtureMessage('dm-received.json'), conversation());
    sim.expireSessions();
    await Promise.all([client.getRequest(requestNumber!), client.listOccurrences(requestNumber!), client.getRequest(requestNumber!)]);
    expect(sim.logins()).toBe(2);
  });

  it('a session refused right after a new login is an auth failure, retried later (never the DLQ)', async () => {
    const expiring: typeof fetch = async (input, init) => {
      if (!String(input).endsWith('/services/login')) sim.expireSessions();
      return fetch(input, init);
    };
    const client = createTicketsClient(settings, secrets(), { fetch: expiring });
    const err = await client.deliver(fixtureMessage('dm-received.json'), conversation()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FourbizAuthError);
    expect(err).toBeInstanceOf(TransientError);
    expect(sim.logins()).toBe(2);
  });

  it('a refused login, a 403 and code PERMISSION are auth failures: retried, and the password is read again', async () => {
    let reads = 0;
    const source = staticSecretSource({ ...testSecret, fourbizUser: sim.userName, fourbizPassword: 'wrong' });
    const counting = { get: () => (reads++, source.get()), invalidate: () => source.invalidate() };
    const wrong = createTicketsClient(settings, counting);
    await expect(wrong.getRequest('1')).rejects.toBeInstanceOf(FourbizAuthError);
    await expect(wrong.getRequest('1')).rejects.toThrow(/login.*PERMISSION/);
    expect(reads).toBe(2);

    const client = createTicketsClient(settings, secrets());
    const { requestNumber } = await client.deliver(fixtureMessage('dm-received.json'), conversation());
    sim.failNext(1, 200, 'PERMISSION');
    await expect(client.getRequest(requestNumber!)).rejects.toBeInstanceOf(FourbizAuthError);
    sim.failNext(1, 403);
    await expect(client.getRequest(requestNumber!)).rejects.toBeInstanceOf(FourbizAuthError);
  });

  it('never follows a redirect: a 3xx is an error and the password goes nowhere else', async () => {
    const seen: string[] = [];
    const elsewhere = createServer((req, res) => {
      req.on('data', (c: Buffer) => seen.push(c.toString()));
      req.on('end', () => res.end('{}'));
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    try {
      sim.redirectNext(1, `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/steal`);
      const client = createTicketsClient(settings, secrets());
      const err = await client.getRequest('1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransientError);
      expect((err as Error).message).toMatch(/redirect \(HTTP 302/);
      expect(seen).toEqual([]);
    } finally {
      elsewhere.close();
    }
  });

  it('classifies failures: down, 5xx and INTERNAL retried; PARAM permanent', async () => {
    const client = createTicketsClient(settings, secrets());
    sim.setDown(true);
    await expect(client.deliver(fixtureMessage('dm-received.json'), conversation())).rejects.toBeInstanceOf(TransientError);
    sim.setDown(false);
    sim.failNext(1, 502);
    await expect(client.getRequest('1')).rejects.toBeInstanceOf(TransientError);
    sim.failNext(1, 200, 'INTERNAL');
    await expect(client.getRequest('1')).rejects.toBeInstanceOf(TransientError);
    // A redeploy: the REST routes answer 404 or 400 with the server's HTML page for a while.
    sim.failNext(1, 404);
    await expect(client.getRequest('1')).rejects.toBeInstanceOf(TransientError);
    sim.failNext(1, 400);
    await expect(client.getRequest('1')).rejects.toBeInstanceOf(TransientError);
    const unknown = await client.getRequest('999999').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(PermanentError);
    expect((unknown as Error).message).toContain('PARAM');
  });

  it('reads answers tolerantly: occurrences under "ocurrences" or as a bare array, status as a string, a request wrapper, sessionID', async () => {
    for (const shape of ['ocurrences', 'array'] as const) {
      await start(shape);
      const client = createTicketsClient(settings, secrets());
      const { requestNumber } = await client.deliver(fixtureMessage('dm-received.json'), conversation());
      sim.addAgentOccurrence(requestNumber!, 'oi');
      expect((await client.listOccurrences(requestNumber!)).map((o) => o.description)).toEqual(['oi']);
    }
    // A 4biz that answers `sessionID`, wraps CtRequest in `request` and sends status as a plain string.
    const reshaping: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const body = (await res.json()) as Record<string, unknown>;
      if (String(input).endsWith('/services/login')) return Response.json({ sessionID: body.SessionID });
      if (String(input).endsWith('/request/getById')) return Response.json({ request: { ...body, status: 'Resolvida' } });
      return Response.json(body, { status: res.status });
    };
    const client = createTicketsClient(settings, secrets(), { fetch: reshaping });
    const { requestNumber } = await client.deliver(fixtureMessage('dm-received.json'), conversation({ conversationId: 'outra' }));
    expect(await client.getRequest(requestNumber!)).toEqual({ number: requestNumber, status: 'Resolvida', finished: true });
  });

  it('reads occurrences oldest first by number and tells the integration user\'s apart from the agents\'', async () => {
    const client = createTicketsClient(settings, secrets());
    const first = fixtureMessage('dm-received.json');
    const { requestNumber } = await client.deliver(first, conversation());
    await client.deliver(withText(first, 'minha', 'e2'), conversation({ requestNumber }));
    sim.addAgentOccurrence(requestNumber!, '<p>Olá, já estamos vendo.</p>');

    const occurrences = await client.listOccurrences(requestNumber!);
    expect(occurrences.map((o) => [o.description, o.byIntegrationUser])).toEqual([
      ['minha', true],
      ['<p>Olá, já estamos vendo.</p>', false],
    ]);
    expect(compareDecimalIds(occurrences[0].id, occurrences[1].id)).toBeLessThan(0);
  });

  it('reads each occurrence\'s category: a string, a {code} object, an English name, or none', async () => {
    const client = createTicketsClient(settings, secrets());
    const { requestNumber } = await client.deliver(fixtureMessage('dm-received.json'), conversation());
    sim.addAgentOccurrence(requestNumber!, 'a', { category: 'Diagnostico' });
    sim.addAgentOccurrence(requestNumber!, 'b', { category: null });
    sim.addAgentOccurrence(requestNumber!, 'c', { category: 'Monitoring' });
    const asObject: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/request/listOccurrences')) return res;
      const body = (await res.json()) as { occurrences: Array<Record<string, unknown>> };
      const occurrences = body.occurrences.map((o, i) => (i === 0 ? { ...o, category: { code: 'Acompanhamento' } } : i === 1 ? { ...o, category: 42 } : o));
      return Response.json({ occurrences });
    };
    expect((await client.listOccurrences(requestNumber!)).map((o) => o.category)).toEqual(['Diagnostico', undefined, 'Acompanhamento']);
    const reshaped = await createTicketsClient(settings, secrets(), { fetch: asObject }).listOccurrences(requestNumber!);
    expect(reshaped.map((o) => o.category)).toEqual(['Acompanhamento', undefined, 'Acompanhamento']);
  });

  it('refuses a 50 MB listOccurrences answer at the size cap without reading it, then reads the next one', async () => {
    const client = createTicketsClient({ ...settings, timeoutMs: 5_000, responseMaxBytes: 1024 * 1024 }, secrets());
    const { requestNumber } = await client.deliver(fixtureMessage('dm-received.json'), conversation());
    sim.addAgentOccurrence(requestNumber!, 'depois');
    const heapBefore = process.memoryUsage().heapUsed;
    sim.answerHuge('/services/request/listOccurrences', 50 * 1024 * 1024);
    const err = await client.listOccurrences(requestNumber!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AnswerTooLargeError);
    expect((err as Error).message).toMatch(/listOccurrences .*over the 1048576-byte cap.*responseMaxBytes/);
    // The client stopped reading: most of the 50 MB never left the simulator, and none of it stayed here.
    await new Promise((r) => setTimeout(r, 200));
    expect(sim.huge.written).toBeLessThan(20 * 1024 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(20 * 1024 * 1024);
    expect((await client.listOccurrences(requestNumber!)).map((o) => o.description)).toEqual(['depois']);
  });

  it('refuses an answer whose declared length is over the cap before reading any of it', async () => {
    const client = createTicketsClient({ ...settings, timeoutMs: 5_000, responseMaxBytes: 1024 * 1024 }, secrets());
    const { requestNumber } = await client.deliver(fixtureMessage('dm-received.json'), conversation());
    sim.answerHuge('/services/request/getById', 50 * 1024 * 1024, { declare: true });
    await expect(client.getRequest(requestNumber!)).rejects.toThrow(/52428800 bytes, over the 1048576-byte cap/);
    await expect(client.getRequest(requestNumber!)).resolves.toMatchObject({ number: requestNumber });
  });

  it.each(['Resolvida', 'Fechada', 'Cancelada'] as const)('reports a request in status %s (a {code, name} object) as finished', async (status) => {
    const client = createTicketsClient(settings, secrets());
    const { requestNumber } = await client.deliver(fixtureMessage('dm-received.json'), conversation());
    expect(await client.getRequest(requestNumber!)).toMatchObject({ status: 'Em andamento', finished: false });
    sim.resolve(requestNumber!, status === 'Resolvida' ? 'Troca do toner.' : undefined, status);
    expect(await client.getRequest(requestNumber!)).toEqual({
      number: requestNumber,
      status,
      finished: true,
      solution: status === 'Resolvida' ? 'Troca do toner.' : undefined,
    });
  });

  it('does not add a DM to a finished request: it waits (retryable) for the poller to close the conversation', async () => {
    const client = createTicketsClient(settings, secrets());
    const first = fixtureMessage('dm-received.json');
    const { requestNumber } = await client.deliver(first, conversation());
    sim.resolve(requestNumber!, 'ok');
    await expect(client.deliver(withText(first, 'tarde demais', 'e9'), conversation({ requestNumber }))).rejects.toBeInstanceOf(RequestFinishedError);
    expect(sim.request(requestNumber!).occurrences).toHaveLength(0);
    // A redelivered DM that did land before 4biz finished the request is delivered, not moved to the next one.
    sim.request(requestNumber!).status = { code: 'EmAndamento', name: 'Em andamento' };
    await client.deliver(withText(first, 'a tempo', 'e10'), conversation({ requestNumber }));
    sim.resolve(requestNumber!, 'ok');
    expect(await client.deliver(withText(first, 'a tempo', 'e10'), conversation({ requestNumber }), { retried: true })).toEqual({ requestNumber });
    expect(sim.request(requestNumber!).occurrences.map((o) => o.description)).toEqual(['a tempo']);
  });

  it('gives up on a call after the configured timeout, as retryable', async () => {
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const client = createTicketsClient({ ...settings, timeoutMs: 100 }, secrets(), { fetch: hanging });
    await expect(client.getRequest('1')).rejects.toThrow(/no answer within 100 ms/);
  });

  it('without the integration user in the secret: an auth failure (DMs wait, the alarm fires), no call to 4biz', async () => {
    const client = createTicketsClient(settings, staticSecretSource(testSecret));
    await expect(client.getRequest('1')).rejects.toBeInstanceOf(FourbizAuthError);
    expect(sim.calls).toHaveLength(0);
  });

  describe('media', () => {
    let x: XApiSimulator;
    const xSecrets = () => staticSecretSource({ ...x.credentials, fourbizUser: sim.userName, fourbizPassword: sim.password });
    beforeAll(async () => {
      x = await startXApiSimulator();
    });
    afterAll(() => x.close());

    it('downloads a DM photo with the account\'s OAuth 1.0a keys and attaches the same bytes; the text names the file', async () => {
      const s = xSecrets();
      const client = createTicketsClient(settings, s, { media: createXMediaDownloader(s, { baseUrl: x.url }) });
      const media = fixtureMessage('dm-with-media.json');
      const { requestNumber } = await client.deliver(media, conversation());

      const served = x.mediaServed.at(-1)!;
      expect(served.path).toBe('/1.1/ton/data/dm/1861000000000000103/1861000000000000555/abcd.jpg');
      const [attachment] = sim.request(requestNumber!).attachments;
      expect(attachment).toMatchObject({ name: `dm-${media.eventId}-1.jpg`, extension: 'jpg' });
      expect(attachment.bytes.equals(served.bytes)).toBe(true);
      expect(sim.request(requestNumber!).source.description).toContain(`dm-${media.eventId}-1.jpg`);
    });

    it('a failed or too large download leaves the link in the text and still delivers the DM', async () => {
      const s = xSecrets();
      const client = createTicketsClient({ ...settings, mediaMaxBytes: 10 }, s, { media: createXMediaDownloader(s, { baseUrl: x.url }) });
      const media = fixtureMessage('dm-with-media.json');
      const big = await client.deliver(media, conversation());
      expect(big.mediaFailures?.[0]).toMatch(/over the 10-byte cap/);

      const fine = createTicketsClient(settings, s, { media: createXMediaDownloader(s, { baseUrl: x.url }) });
      x.failMediaNext(1, 503);
      const failed = await fine.deliver({ ...media, eventId: 'e-media-2' }, conversation({ requestNumber: big.requestNumber }));
      expect(failed.mediaFailures?.[0]).toMatch(/HTTP 503/);

      const request = sim.request(big.requestNumber!);
      expect(request.attachments).toEqual([]);
      expect(request.source.description).toContain('[Anexo (photo): https://ton.twitter.com/1.1/ton/data/dm/');
      expect(request.occurrences[0].description).toContain('[Anexo (photo): https://ton.twitter.com/1.1/ton/data/dm/');
    });

    it('signs nothing for a host other than ton.twitter.com, and X refuses another account\'s keys', async () => {
      const s = xSecrets();
      const downloader = createXMediaDownloader(s, { baseUrl: x.url });
      expect(await downloader.download('https://evil.example/1.1/ton/data/dm/1/2/a.jpg', 1000)).toMatchObject({ ok: false, reason: expect.stringMatching(/not on ton.twitter.com/) });
      const other = createXMediaDownloader(staticSecretSource({ ...x.credentials, accessTokenSecret: 'not-ours' }), { baseUrl: x.url });
      expect(await other.download('https://ton.twitter.com/1.1/ton/data/dm/1/2/a.jpg', 1000)).toMatchObject({ ok: false, reason: expect.stringMatching(/^X answered HTTP 401: X refused the company account's OAuth 1\.0a keys for DM media on ton\.twitter\.com: check accessToken and accessTokenSecret .*npm run x -- authorize/) });
    });
  });
});
