import type { ScheduledEvent } from 'aws-lambda';
import type { Conversation } from '../../functions/core/conversation';
import { AnswerTooLargeError, FourbizAuthError } from '../../functions/core/errors';
import type { LeaseStore } from '../../functions/core/lease';
import type { OutboundMessage } from '../../functions/core/outbound-message';
import { createPollerHandler, type PollSummary } from '../../functions/poller/handler';
import { memoryPollMarks, memoryStore } from '../support/memory-store';
import { testObservability } from '../support/observability';
import { lambdaContext } from '../support/x-fixtures';

const open = (xUserId: string, over: Partial<Conversation> = {}): Conversation => ({
  xUserId,
  conversationId: `${xUserId}-1`,
  status: 'OPEN',
  openedAt: '2024-11-25T02:00:00.000Z',
  lastActivityAt: '2024-11-25T02:00:00.000Z',
  messagesIn: 1,
  messagesOut: 0,
  requestNumber: `R${xUserId}`,
  version: 1,
  ...over,
});

function setup(opts: { leaseFree?: boolean; failFor?: string; failWith?: Error } = {}) {
  const store = memoryStore([open('1'), open('2')]);
  const { conversations } = store;
  const lease: string[] = [];
  const leases: LeaseStore = {
    tryAcquire: async (_name, holder) => (opts.leaseFree === false ? false : (lease.push(`take ${holder}`), true)),
    release: async (_name, holder) => void lease.push(`give ${holder}`),
  };
  const queued: OutboundMessage[] = [];
  const obs = testObservability();
  const handler = createPollerHandler({
    ...obs,
    store,
    leases,
    marks: memoryPollMarks(),
    leaseSeconds: 50,
    closingMessage: 'Fim do atendimento {number}.',
    queue: { send: async (m) => void queued.push(...m) },
    fourbiz: {
      async getRequest(n) {
        if (n === opts.failFor) throw opts.failWith ?? new FourbizAuthError('PERMISSION');
        return { number: n, status: 'Fechada', finished: true };
      },
      listOccurrences: async (n) => [{ id: '10', numberOrigin: undefined, description: `resposta ${n}`, byIntegrationUser: false, category: 'Retorno' }],
    },
  });
  const run = () => handler({} as ScheduledEvent, lambdaContext) as Promise<PollSummary>;
  return { conversations, lease, queued, obs, run };
}

describe('poller handler', () => {
  it('holds the lease while it runs: answers, then the closing message, then the conversation closes', async () => {
    const t = setup();
    expect(await t.run()).toEqual({ ran: true, conversations: 2, due: 2, polled: 2, deferred: 0, queued: 4, closed: 2, failed: 0 });
    expect(t.lease).toEqual([`take ${lambdaContext.awsRequestId}`, `give ${lambdaContext.awsRequestId}`]);
    expect(t.queued.filter((m) => m.xUserId === '1').map((m) => m.text)).toEqual(['resposta R1', 'Fim do atendimento R1.']);
    expect(t.conversations.get('1')).toMatchObject({ status: 'CLOSED', closeReason: 'fourbiz', syncedOccurrenceIds: ['10'] });
  });

  it('keeps internal occurrences in 4biz: logged without their text, counted per category', async () => {
    const store = memoryStore([open('1')]);
    const obs = testObservability();
    const logged: unknown[] = [];
    jest.spyOn(obs.logger, 'info').mockImplementation((...args: unknown[]) => void logged.push(args));
    const queued: OutboundMessage[] = [];
    const handler = createPollerHandler({
      ...obs,
      store,
      leases: { tryAcquire: async () => true, release: async () => undefined },
      marks: memoryPollMarks(),
      leaseSeconds: 50,
      queue: { send: async (m) => void queued.push(...m) },
      fourbiz: {
        getRequest: async (n) => ({ number: n, status: 'Em andamento', finished: false }),
        listOccurrences: async () => [
          { id: '10', description: 'Senha do roteador: admin123', byIntegrationUser: false, category: 'Diagnostico' },
          { id: '11', description: 'sem categoria', byIntegrationUser: false },
          { id: '12', description: 'Já estamos vendo.', byIntegrationUser: false, category: 'Acompanhamento' },
          { id: '13', description: 'outra nota', byIntegrationUser: false, category: 'Diagnostico' },
        ],
      },
    });
    await handler({} as ScheduledEvent, lambdaContext);
    expect(queued.map((m) => m.text)).toEqual(['Já estamos vendo.']);
    expect(obs.published()).toMatchObject({ 'OccurrenceKeptInternal{category=Diagnostico}': 2, 'OccurrenceKeptInternal{category=(none)}': 1 });
    expect(JSON.stringify(logged)).toContain('"category":"Diagnostico"');
    expect(JSON.stringify(logged)).not.toContain('admin123');
    expect(store.conversations.get('1')).toMatchObject({ syncedOccurrenceIds: ['10', '11', '12', '13'] });
  });

  it('counts a 4biz answer over the size cap as FourbizAnswerTooLarge and goes on with the other conversations', async () => {
    const t = setup({ failFor: 'R1', failWith: new AnswerTooLargeError('4biz /services/request/listOccurrences answered HTTP 200 with a body over the cap') });
    expect(await t.run()).toMatchObject({ ran: true, failed: 1, closed: 1 });
    expect(t.obs.published()).toMatchObject({ FourbizAnswerTooLarge: 1, FourbizTransientError: 1 });
    expect(t.queued.filter((m) => m.xUserId === '2')).toHaveLength(2);
  });

  it('skips when another run holds the lease', async () => {
    const t = setup({ leaseFree: false });
    expect(await t.run()).toEqual({ ran: false, conversations: 0, due: 0, polled: 0, deferred: 0, queued: 0, closed: 0, failed: 0 });
    expect(t.queued).toEqual([]);
  });

  it('counts a 4biz auth failure as FourbizAuthFailure and goes on with the other conversations', async () => {
    const t = setup({ failFor: 'R1' });
    expect(await t.run()).toMatchObject({ ran: true, failed: 1, closed: 1 });
    expect(t.obs.published()).toMatchObject({ FourbizAuthFailure: 1 });
    expect(t.obs.published().FourbizTransientError).toBeUndefined();
  });
});
