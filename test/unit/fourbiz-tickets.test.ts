import { ticketsSettingsSchema, type TicketsSettings } from '../../functions/config';
import { createTicketsClient } from '../../functions/adapters/fourbiz/tickets';
import { compareOccurrenceIds } from '../../functions/core/reply-sync';
import { staticSecretSource } from '../../functions/adapters/secrets';
import type { Conversation } from '../../functions/core/conversation';
import { PermanentError, TransientError } from '../../functions/core/errors';
import { normaliseDelivery, accountActivitySchema, type InboundMessage } from '../../functions/core/x-events';
import { fixtureBytes, testSecret } from '../support/x-fixtures';
import { startFourBizSimulator, type FourBizSimulator } from '../simulators/fourbiz-rest';

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

describe('4biz tickets client (Citrest)', () => {
  let sim: FourBizSimulator;
  let settings: TicketsSettings;
  const secrets = () => staticSecretSource({ ...testSecret, fourbizUser: sim.userName, fourbizPassword: sim.password });

  beforeEach(async () => {
    sim = await startFourBizSimulator();
    settings = ticketsSettingsSchema.parse({
      mode: 'tickets',
      baseUrl: sim.baseUrl,
      contractId: 1,
      activityId: 10,
      groupId: 5,
      unitId: 2,
      originId: 7,
      urgency: 'A',
      impact: 'B',
      timeoutMs: 1000,
    });
  });
  afterEach(() => sim.close());

  it('opens one request for the first DM, keyed by the conversation, with the tenant ids and the requester', async () => {
    const client = createTicketsClient(settings, secrets());
    const result = await client.deliver(fixtureMessage('dm-received.json'), conversation());

    expect(sim.requests).toHaveLength(1);
    const request = sim.requests[0];
    expect(result.requestNumber).toBe(String(request.number));
    expect(request.numberOrigin).toBe('conv-2900000000000000042-1');
    expect(request.source).toMatchObject({ contractID: 1, activityID: 10, groupID: 5, unitID: 2, originID: 7, urgency: 'A', impact: 'B', type: 'R' });
    expect(request.source.contact).toEqual({ name: 'Maria Souza (@maria_souza)' });
    expect(request.source.description).toContain('@maria_souza');
    expect(request.source.description).toContain('Olá! Minha impressora parou de funcionar https://example.com/foto-erro');
    expect(sim.logins()).toBe(1);
  });

  it('adds later DMs as occurrences, in order, each recognisable by its DM event id', async () => {
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
    expect(occurrences[0]).toMatchObject({ category: 'Memorando', reason: 'Mensagem do solicitante via X' });
    expect(occurrences[0].hour).toMatch(/^\d{2}:\d{2}$/);
    expect(sim.logins()).toBe(1);
  });

  it('does not duplicate an occurrence when a DM is delivered again', async () => {
    const client = createTicketsClient(settings, secrets());
    const first = fixtureMessage('dm-received.json');
    const { requestNumber } = await client.deliver(first, conversation());
    await client.deliver(withText(first, 'de novo', 'e2'), conversation({ requestNumber }));
    await client.deliver(withText(first, 'de novo', 'e2'), conversation({ requestNumber }));
    expect(sim.request(requestNumber!).occurrences).toHaveLength(1);
  });

  it('logs in once more when the session expired, and the call goes through', async () => {
    const client = createTicketsClient(settings, secrets());
    const first = fixtureMessage('dm-received.json');
    const { requestNumber } = await client.deliver(first, conversation());
    sim.expireSessions();
    await client.deliver(withText(first, 'depois da expiração', 'e2'), conversation({ requestNumber }));

    expect(sim.logins()).toBe(2);
    expect(sim.request(requestNumber!).occurrences.map((o) => o.description)).toEqual(['depois da expiração']);
  });

  it('shares one new login among calls that saw the same expired session', async () => {
    const client = createTicketsClient(settings, secrets());
    const { requestNumber } = await client.deliver(fixtureMessage('dm-received.json'), conversation());
    sim.expireSessions();
    await Promise.all([client.getRequest(requestNumber!), client.listOccurrences(requestNumber!), client.getRequest(requestNumber!)]);
    expect(sim.logins()).toBe(2);
  });

  it('gives up with a retryable error when the session is refused again right after logging in', async () => {
    const expiring: typeof fetch = async (input, init) => {
      if (!String(input).endsWith('/services/login')) sim.expireSessions();
      return fetch(input, init);
    };
    const client = createTicketsClient(settings, secrets(), { fetch: expiring });
    await expect(client.deliver(fixtureMessage('dm-received.json'), conversation())).rejects.toBeInstanceOf(TransientError);
    expect(sim.logins()).toBe(2);
  });

  it('carries media as a link, a quick-reply choice, emoji and a 10,000-character text intact', async () => {
    const client = createTicketsClient(settings, secrets());
    const media = fixtureMessage('dm-with-media.json');
    const { requestNumber } = await client.deliver(media, conversation());
    const quick = fixtureMessage('dm-quick-reply.json');
    await client.deliver(quick, conversation({ requestNumber }));
    const long = `${'👍🏽 Olá, ação 🇧🇷 '.repeat(555)}`.slice(0, 9990) + 'fim';
    await client.deliver(withText(quick, long, 'long-1'), conversation({ requestNumber }));

    const request = sim.request(requestNumber!);
    expect(request.source.description).toContain('https://ton.twitter.com/1.1/ton/data/dm/1861000000000000103/1861000000000000555/abcd.jpg');
    expect(request.source.description).toContain('segue o print https://twitter.com/messages/media/1861000000000000103');
    const [choice, text] = request.occurrences;
    expect(choice.description).toBe('Falar com atendente\n[Resposta rápida: menu:agent]');
    expect(text.description).toBe(`${long}\n[Resposta rápida: menu:agent]`);
  });

  it('reads occurrences oldest first and tells the integration user\'s apart from the agents\'', async () => {
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
    expect(compareOccurrenceIds(occurrences[0].id, occurrences[1].id)).toBeLessThan(0);
  });

  it.each(['Resolvida', 'Fechada', 'Cancelada'] as const)('reports a request in status %s as finished, with its solution', async (status) => {
    const client = createTicketsClient(settings, secrets());
    const { requestNumber } = await client.deliver(fixtureMessage('dm-received.json'), conversation());
    expect(await client.getRequest(requestNumber!)).toMatchObject({ status: 'Em andamento', finished: false });
    sim.resolve(requestNumber!, 'Troca do toner.', status);
    expect(await client.getRequest(requestNumber!)).toEqual({ number: requestNumber, status, solution: 'Troca do toner.', finished: true });
  });

  it('classifies failures: down or 5xx retryable, refused input permanent, wrong password permanent', async () => {
    const client = createTicketsClient(settings, secrets());
    sim.setDown(true);
    await expect(client.deliver(fixtureMessage('dm-received.json'), conversation())).rejects.toBeInstanceOf(TransientError);
    sim.setDown(false);
    sim.failNext(1, 502);
    await expect(client.getRequest('1')).rejects.toBeInstanceOf(TransientError);
    await expect(client.getRequest('999999')).rejects.toBeInstanceOf(PermanentError);

    const wrong = createTicketsClient(settings, staticSecretSource({ ...testSecret, fourbizUser: sim.userName, fourbizPassword: 'wrong' }));
    await expect(wrong.getRequest('1')).rejects.toThrow(/LOGIN_FAILED/);
    await expect(wrong.getRequest('1')).rejects.toBeInstanceOf(PermanentError);
  });

  it('gives up on a call after the configured timeout, as retryable', async () => {
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const client = createTicketsClient({ ...settings, timeoutMs: 100 }, secrets(), { fetch: hanging });
    await expect(client.getRequest('1')).rejects.toThrow(/no answer within 100 ms/);
  });

  it('refuses to run without the integration user in the secret', async () => {
    const client = createTicketsClient(settings, staticSecretSource(testSecret));
    await expect(client.getRequest('1')).rejects.toBeInstanceOf(PermanentError);
    expect(sim.calls).toHaveLength(0);
  });
});
