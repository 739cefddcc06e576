import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { countMessages } from '../../cli/dlq-commands';
import type { ScheduledEvent } from 'aws-lambda';
import { ticketsSettingsSchema } from '../../functions/config';
import { dynamoConversationStore } from '../../functions/adapters/conversation-store';
import { createTicketsClient } from '../../functions/adapters/fourbiz/tickets';
import { sqsInboundQueue } from '../../functions/adapters/inbound-queue';
import { sqsQueueControl } from '../../functions/adapters/queue-control';
import { sqsOutboundQueue } from '../../functions/adapters/outbound-queue';
import { staticSecretSource } from '../../functions/adapters/secrets';
import { dynamoLeaseStore } from '../../functions/adapters/lease-store';
import { createXMediaDownloader } from '../../functions/adapters/x-media';
import { createXClient } from '../../functions/adapters/x-client';
import { DM_MAX_CHARS } from '../../functions/core/reply-format';
import { accountActivitySchema, normaliseDelivery, type InboundMessage } from '../../functions/core/x-events';
import { createDispatcherHandler } from '../../functions/dispatcher/handler';
import { createPollerHandler } from '../../functions/poller/handler';
import { dynamoPollMarks } from '../../functions/adapters/poll-marks-store';
import { createSenderHandler } from '../../functions/sender/handler';
import { startSqsEventSource, type SqsEventSource } from '../../local/sqs-event-source';
import { createTestQueuePair, createTestTable, testDynamoClient, testSqsClient } from '../support/aws';
import { testObservability } from '../support/observability';
import { fixtureBytes, lambdaContext } from '../support/x-fixtures';
import { startFourbizSimulator, type FourbizSimulator } from '../../simulators/fourbiz-rest';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';
import type { ConversationStore } from '../../functions/core/ports';
import { until } from '../support/until';
import { memoryCircuit } from '../support/memory-circuit';

/**
 * tickets mode end to end: inbound FIFO → dispatcher → 4biz REST simulator; poller → outbound
 * FIFO → sender → X simulator; conversation state in DynamoDB Local, queues in fauxqs. The 4biz
 * simulator answers as 4biz's public documentation describes, and its sessions expire every few
 * calls throughout.
 */
jest.setTimeout(30_000);

const fixture = (name: string): InboundMessage =>
  normaliseDelivery(accountActivitySchema.parse(JSON.parse(fixtureBytes(name).toString('utf8')))).messages[0];

let eventSeq = 0;
/** A DM from `xUserId` sent now, shaped like the fixture (media, quick reply…) with its own event id. */
function dm(xUserId: string, text: string, from = fixture('dm-received.json')): InboundMessage {
  const at = Date.now();
  const eventId = `${at}${String(++eventSeq).padStart(4, '0')}`;
  return {
    ...from,
    eventId,
    createdTimestamp: String(at),
    createdAt: new Date(at).toISOString(),
    sender: { ...from.sender, id: xUserId },
    text,
    // The queue carries the raw event, not `text`: the dispatcher reads the text from here.
    raw: { ...from.raw, event: { ...from.raw.event, id: eventId, message_create: { ...from.raw.event.message_create!, message_data: { ...from.raw.event.message_create!.message_data, text, entities: undefined } } } },
  };
}

const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events' } as ScheduledEvent;

describe('tickets mode: DMs become a 4biz request, agents\' replies and the solution come back as DMs', () => {
  const sqs = testSqsClient();
  const dynamo = testDynamoClient();
  let fourbiz: FourbizSimulator;
  let x: XApiSimulator;
  let store: ConversationStore;
  let sources: SqsEventSource[] = [];
  let send: (messages: InboundMessage[]) => Promise<void>;
  let poll: (context?: Partial<Context>) => Promise<{ ran: boolean }>;
  let queues: { inbound: { dlqUrl: string }; outbound: { dlqUrl: string } };
  const obs = testObservability();
  const SESSION_CALLS = 6;

  beforeAll(async () => {
    [fourbiz, x] = await Promise.all([startFourbizSimulator(), startXApiSimulator()]);
    fourbiz.expireSessionsEvery(SESSION_CALLS);
    const table = await createTestTable(dynamo);
    store = dynamoConversationStore(DynamoDBDocumentClient.from(dynamo), table);
    const [inbound, outbound] = await Promise.all([
      createTestQueuePair(sqs, 'tickets-inbound', { visibilityTimeoutSeconds: 5 }),
      createTestQueuePair(sqs, 'tickets-outbound', { visibilityTimeoutSeconds: 5 }),
    ]);
    const { consumerKey, consumerSecret, accessToken, accessTokenSecret } = x.credentials;
    const secrets = staticSecretSource({ consumerKey, consumerSecret, accessToken, accessTokenSecret, fourbizUser: fourbiz.userName, fourbizPassword: fourbiz.password });
    queues = { inbound, outbound };
    const settings = ticketsSettingsSchema.parse({ mode: 'tickets', baseUrl: fourbiz.baseUrl, contractId: 1, groupId: 'N1-ATENDIMENTO', timeoutMs: 1000 });
    const tickets = createTicketsClient(settings, secrets, { media: createXMediaDownloader(secrets, { baseUrl: x.url }) });
    const backoff = { baseSeconds: 1, maxSeconds: 1 };

    const dispatcher = createDispatcherHandler({
      circuit: memoryCircuit(),
      ...obs,
      store,
      fourbiz: tickets,
      queue: sqsQueueControl(sqs, { queueUrl: inbound.queueUrl, dlqUrl: inbound.dlqUrl }),
      idleMinutes: 60,
      backoff,
    });
    const outboundQueue = sqsOutboundQueue(sqs, outbound.queueUrl);
    const sender = createSenderHandler({ ...obs, store, x: createXClient(secrets, { baseUrl: x.url }), queue: sqsQueueControl(sqs, { queueUrl: outbound.queueUrl, dlqUrl: outbound.dlqUrl }), backoff });
    const poller = createPollerHandler({
      ...obs,
      store,
      fourbiz: tickets,
      queue: outboundQueue,
      leases: dynamoLeaseStore(DynamoDBDocumentClient.from(dynamo), table),
      marks: dynamoPollMarks(DynamoDBDocumentClient.from(dynamo), table),
      leaseSeconds: 60,
      closingMessage: 'Atendimento nº {number} encerrado. Obrigado!',
    });

    sources = [
      startSqsEventSource({ client: sqs, queueUrl: inbound.queueUrl, queueArn: 'arn:aws:sqs:us-east-1:000000000000:inbound', handler: dispatcher, waitTimeSeconds: 1, onError: () => undefined }),
      startSqsEventSource({ client: sqs, queueUrl: outbound.queueUrl, queueArn: 'arn:aws:sqs:us-east-1:000000000000:outbound', handler: sender, waitTimeSeconds: 1, onError: () => undefined }),
    ];
    sources.forEach((s) => s.start());
    send = (messages) => sqsInboundQueue(sqs, inbound.queueUrl).send(messages);
    poll = (context = {}) => poller(scheduled, { ...lambdaContext, ...context } as Context);
  });

  afterAll(async () => {
    await Promise.all(sources.map((s) => s.stop()));
    await Promise.all([fourbiz?.close(), x?.close()]);
    sqs.destroy();
    dynamo.destroy();
  });

  const dmsTo = (xUserId: string) => x.dms.filter((d) => d.participantId === xUserId).map((d) => d.text);
  const requestOf = async (xUserId: string) => {
    const c = await store.get(xUserId);
    return c?.requestNumber ? fourbiz.request(c.requestNumber) : undefined;
  };

  it('opens one request, adds occurrences in order, sends agent replies and the solution, then opens a new request', async () => {
    const maria = '2900000000000000101';
    await send([dm(maria, 'Minha impressora parou')]);
    const request = await until('the request', () => requestOf(maria));
    expect(request.numberOrigin).toBe((await store.get(maria))!.conversationId);

    await send([dm(maria, 'Modelo HP 400'), dm(maria, 'Está piscando uma luz laranja')]);
    await until('two occurrences', () => request.occurrences.length === 2);
    expect(request.occurrences.map((o) => o.description)).toEqual(['Modelo HP 400', 'Está piscando uma luz laranja']);
    expect(fourbiz.requests.filter((r) => r.numberOrigin.startsWith(maria))).toHaveLength(1);

    fourbiz.addAgentOccurrence(request.number, '<p>Olá Maria, pode desligar e ligar de novo?</p>');
    await poll();
    await until('the agent reply as a DM', () => dmsTo(maria).length === 1);
    expect(dmsTo(maria)).toEqual(['Olá Maria, pode desligar e ligar de novo?']);
    expect(obs.published()).toMatchObject({ RepliesQueued: 1, ConversationsPolled: expect.any(Number) });

    await poll();
    fourbiz.resolve(request.number, 'Equipamento reiniciado, funcionando.');
    await poll();
    await until('the solution as a DM', () => dmsTo(maria).length === 2);
    expect(dmsTo(maria)[1]).toContain(`Sua solicitação nº ${request.number} foi concluída.`);
    expect(dmsTo(maria)[1]).toContain('Equipamento reiniciado, funcionando.');
    const closed = await store.get(maria);
    expect(closed).toMatchObject({ status: 'CLOSED', requestNumber: String(request.number) });
    await until('both replies counted in the conversation', async () => (await store.get(maria))?.messagesOut === 2);

    await poll();
    await send([dm(maria, 'Agora é o scanner')]);
    const next = await until('a new request', async () => {
      const c = await store.get(maria);
      return c?.status === 'OPEN' && c.requestNumber && c.requestNumber !== String(request.number) ? c : undefined;
    });
    expect(fourbiz.request(next.requestNumber!).source.description).toContain('Agora é o scanner');
    expect(next.conversationId).not.toBe(closed!.conversationId);
    // Nothing was sent twice across all those polls.
    expect(dmsTo(maria)).toHaveLength(2);
  });

  it('logs in once more when the 4biz session expires mid-run, losing no call', async () => {
    const joao = '2900000000000000102';
    await send([dm(joao, 'Primeira')]);
    const request = await until('the request', () => requestOf(joao));
    const logins = fourbiz.logins();
    fourbiz.expireSessions();
    await send([dm(joao, 'Depois da expiração')]);
    await until('the occurrence', () => request.occurrences.length === 1);
    expect(request.occurrences[0].description).toBe('Depois da expiração');
    // At most one login per expired session (the simulator also expires every few calls).
    expect(fourbiz.logins() - logins).toBeGreaterThanOrEqual(1);
    expect(fourbiz.logins() - logins).toBeLessThanOrEqual(1 + Math.ceil(fourbiz.calls.length / SESSION_CALLS));
  });

  it('keeps DMs waiting while 4biz is down and delivers them, in order, once it is back', async () => {
    const ana = '2900000000000000103';
    await send([dm(ana, 'Abrir chamado')]);
    const request = await until('the request', () => requestOf(ana));
    fourbiz.setDown(true);
    const refusedBefore = fourbiz.calls.filter((c) => c.status === 503).length;
    await send([dm(ana, 'Um'), dm(ana, 'Dois')]);
    await until('a refused attempt', () => fourbiz.calls.filter((c) => c.status === 503).length > refusedBefore);
    expect(request.occurrences).toHaveLength(0);
    fourbiz.setDown(false);
    await until('both occurrences after 4biz is back', () => request.occurrences.length === 2);
    expect(request.occurrences.map((o) => o.description)).toEqual(['Um', 'Dois']);
  });

  it('waits for the X rate-limit reset and then sends every reply once, in order', async () => {
    const bia = '2900000000000000104';
    await send([dm(bia, 'Oi')]);
    const request = await until('the request', () => requestOf(bia));
    for (const n of [1, 2, 3]) fourbiz.addAgentOccurrence(request.number, `Resposta ${n}`);
    const resetAt = Math.floor(Date.now() / 1000) + 2;
    x.failNext(3, { status: 429, resetAt }, 'dm');
    await poll();
    await until('all three replies', () => dmsTo(bia).length === 3, 15_000);
    expect(dmsTo(bia)).toEqual(['Resposta 1', 'Resposta 2', 'Resposta 3']);
    expect(x.dms.filter((d) => d.participantId === bia).every((d) => d.at.getTime() >= resetAt * 1000 - 1000)).toBe(true);
    expect(obs.published().XRateLimited).toBeGreaterThanOrEqual(1);
    await poll();
    await new Promise((r) => setTimeout(r, 300));
    expect(dmsTo(bia)).toHaveLength(3);
  });

  it('carries 10,000-character and emoji texts, media and a quick-reply choice intact, both ways', async () => {
    const caio = '2900000000000000105';
    const unit = '👍🏽 Olá, ação 🇧🇷 ';
    const repeated = unit.repeat(Math.floor(DM_MAX_CHARS / unit.length)).trimEnd();
    const long = repeated + '.'.repeat(DM_MAX_CHARS - repeated.length);
    expect(long).toHaveLength(DM_MAX_CHARS);
    await send([dm(caio, long)]);
    const request = await until('the request', () => requestOf(caio));
    expect(String(request.source.description).includes(long)).toBe(true);

    const media = fixture('dm-with-media.json');
    const quick = fixture('dm-quick-reply.json');
    await send([dm(caio, media.text, media), dm(caio, quick.text, quick)]);
    await until('the media and quick-reply occurrences', () => request.occurrences.length === 2);
    expect(request.occurrences[0].description).toContain(media.attachments[0].url!);
    expect(request.occurrences[0].description).toContain('https://twitter.com/messages/media/1861000000000000103');
    // The photo itself is attached to the request: the very bytes X served.
    expect(request.attachments).toHaveLength(1);
    const served = x.mediaServed.filter((m) => m.path === new URL(media.attachments[0].url!).pathname).at(-1)!;
    expect(request.attachments[0].bytes.equals(served.bytes)).toBe(true);
    expect(request.occurrences[0].description).toContain(request.attachments[0].name);
    expect(request.occurrences[1].description).toBe('Falar com atendente\n[Resposta rápida: menu:agent]');

    const longer = `${'Segue o passo a passo 😀 '.repeat(600)}fim`;
    fourbiz.addAgentOccurrence(request.number, long);
    fourbiz.addAgentOccurrence(request.number, longer);
    await poll();
    await until('the long replies', () => dmsTo(caio).length === 3);
    const [one, ...split] = dmsTo(caio);
    // Compared without printing 10,000 characters on failure.
    expect([one.length, one === long]).toEqual([long.length, true]);
    expect(split).toHaveLength(2);
    expect(split.join('') === longer).toBe(true);
    expect(split.every((p) => p.length <= DM_MAX_CHARS)).toBe(true);
  });

  it('a create 4biz stored but answered after the timeout yields one request, and the DM is not lost', async () => {
    const leo = '2900000000000000106';
    fourbiz.answerLate('/services/request/create', 1500);
    await send([dm(leo, 'Criado mas respondido tarde')]);
    const request = await until('the request', () => requestOf(leo), 15_000);
    expect(fourbiz.requests.filter((r) => r.numberOrigin.startsWith(leo))).toHaveLength(1);
    expect(String(request.source.description)).toContain('Criado mas respondido tarde');
  });

  it('an occurrence 4biz applied but answered after the timeout is not repeated', async () => {
    const rui = '2900000000000000107';
    await send([dm(rui, 'Abrir')]);
    const request = await until('the request', () => requestOf(rui));
    fourbiz.answerLate('/services/request/createOccurrence', 1500);
    await send([dm(rui, 'Uma vez só'), dm(rui, 'Depois')]);
    await until('both occurrences', () => request.occurrences.length === 2, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(request.occurrences.map((o) => o.description)).toEqual(['Uma vez só', 'Depois']);
  });

  it('sends an agent occurrence that appears late with a number below ones already synced, once', async () => {
    const eva = '2900000000000000108';
    await send([dm(eva, 'Olá')]);
    const request = await until('the request', () => requestOf(eva));
    const reserved = fourbiz.reserveOccurrenceNumber();
    fourbiz.addAgentOccurrence(request.number, 'Escrita depois, número maior');
    await poll();
    await until('the first reply', () => dmsTo(eva).length === 1);
    fourbiz.addAgentOccurrence(request.number, 'Escrita antes, visível só agora', { number: reserved });
    await poll();
    await until('the late reply', () => dmsTo(eva).length === 2);
    await poll();
    await new Promise((r) => setTimeout(r, 300));
    expect(dmsTo(eva)).toEqual(['Escrita depois, número maior', 'Escrita antes, visível só agora']);
  });

  it('on resolution: pending answers, then the closing message, once each; a DM sent before the poll opens the next request', async () => {
    const ivo = '2900000000000000109';
    await send([dm(ivo, 'Primeiro pedido')]);
    const first = await until('the request', () => requestOf(ivo));
    fourbiz.addAgentOccurrence(first.number, 'Resolvi por aqui.');
    fourbiz.resolve(first.number);
    // Sent after 4biz finished the request, before the poller noticed.
    await send([dm(ivo, 'Mais uma coisa')]);
    await until('the dispatcher seeing the request finished', () => fourbiz.calls.some((c) => c.path === '/services/request/getById' && String(c.body.number) === String(first.number)));
    await new Promise((r) => setTimeout(r, 500));
    expect(first.occurrences.map((o) => o.description)).toEqual(['Resolvi por aqui.']);

    await poll();
    await until('the answer and the closing message', () => dmsTo(ivo).length === 2);
    expect(dmsTo(ivo)).toEqual(['Resolvi por aqui.', `Atendimento nº ${first.number} encerrado. Obrigado!`]);
    const next = await until('the next request', async () => {
      const c = await store.get(ivo);
      return c?.status === 'OPEN' && c.requestNumber && c.requestNumber !== String(first.number) ? c : undefined;
    }, 15_000);
    expect(String(fourbiz.request(next.requestNumber!).source.description)).toContain('Mais uma coisa');
    expect(first.occurrences.map((o) => o.description)).toEqual(['Resolvi por aqui.']);
    await poll();
    await new Promise((r) => setTimeout(r, 300));
    expect(dmsTo(ivo)).toHaveLength(2);
  });

  it('runs one poll at a time: a poll that starts while another holds the lease skips', async () => {
    const runs = await Promise.all([poll({ awsRequestId: 'poll-a' }), poll({ awsRequestId: 'poll-b' })]);
    expect(runs.map((r) => r.ran).sort()).toEqual([false, true]);
    expect((await poll({ awsRequestId: 'poll-c' })).ran).toBe(true);
  });

  it('sent nothing to the DLQs across all of the above, session expiries included', async () => {
    const expiries = fourbiz.calls.filter((c) => c.status === 412 && c.errorCode === 'SESSION').length;
    expect(expiries).toBeGreaterThan(5);
    expect(fourbiz.logins()).toBeLessThanOrEqual(expiries + 1);
    expect((await countMessages(sqs, queues.inbound.dlqUrl)).visible).toBe(0);
    expect((await countMessages(sqs, queues.outbound.dlqUrl)).visible).toBe(0);
    expect(obs.published().FourbizPermanentError ?? 0).toBe(0);
    expect(obs.published().FourbizAuthFailure ?? 0).toBe(0);
  });
});
