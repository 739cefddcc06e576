import type { Conversation } from '../../functions/core/conversation';
import { compareDecimalIds } from '../../functions/core/decimal-ids';
import { mergeSynced, planReplySync } from '../../functions/core/reply-sync';

const conversation = (over: Partial<Conversation> = {}): Conversation => ({
  xUserId: '2900000000000000042',
  conversationId: '2900000000000000042-1732500000123',
  status: 'OPEN',
  openedAt: '2024-11-25T02:00:00.000Z',
  lastActivityAt: '2024-11-25T02:00:00.000Z',
  messagesIn: 3,
  messagesOut: 0,
  requestNumber: '4000',
  version: 3,
  ...over,
});
const open = { number: '4000', status: 'Em andamento', finished: false };
const agent = (id: string, description: string, category = 'Acompanhamento') => ({ id, description, byIntegrationUser: false, category });
const ours = (id: string, description: string) => ({ id, description, byIntegrationUser: true });

describe('reply sync plan', () => {
  it('queues the agents\' new occurrences in order, never the person\'s own, and remembers the newest seen', () => {
    const plan = planReplySync(conversation({ lastSyncedOccurrenceId: '99' }), open, [
      agent('98', 'velha'),
      ours('100', 'minha mensagem'),
      agent('102', 'segunda'),
      agent('101', '<p>primeira</p>'),
      ours('103', 'outra minha'),
    ]);
    expect(plan.outbound.map((m) => [m.sourceId, m.text, m.kind])).toEqual([
      ['101', 'primeira', 'occurrence'],
      ['102', 'segunda', 'occurrence'],
    ]);
    expect(plan.outbound[0]).toMatchObject({ xUserId: '2900000000000000042', recipientId: '2900000000000000042', requestNumber: '4000' });
    expect(plan.synced).toEqual({ upTo: '99', ids: ['100', '101', '102', '103'] });
    expect(plan.close).toBe(false);
  });

  it('sends only customer-visible categories: internal notes and uncategorised occurrences stay in 4biz but are handled', () => {
    const plan = planReplySync(conversation(), open, [
      agent('1', 'Nota interna: cliente suspeito de fraude. Senha do roteador: admin123', 'Diagnostico'),
      agent('2', 'Estamos verificando.', 'Acompanhamento'),
      agent('3', 'investigando', 'Investigação'),
      agent('4', 'memo', 'Memorando'),
      { id: '5', description: 'sem categoria', byIntegrationUser: false },
      agent('6', 'Pode reiniciar o roteador?', 'retorno'),
      agent('7', 'contorno', 'Contorno'),
    ]);
    expect(plan.outbound.map((m) => m.text)).toEqual(['Estamos verificando.', 'Pode reiniciar o roteador?']);
    expect(plan.outbound.map((m) => m.text).join()).not.toContain('admin123');
    expect(plan.keptBack).toEqual([
      { id: '1', category: 'Diagnostico' },
      { id: '3', category: 'Investigação' },
      { id: '4', category: 'Memorando' },
      { id: '5' },
      { id: '7', category: 'Contorno' },
    ]);
    expect(plan.synced.ids).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });

  it('follows the tenant\'s customerVisibleCategories, without case or accents mattering', () => {
    const plan = planReplySync(conversation(), open, [agent('1', 'a', 'Acompanhamento'), agent('2', 'b', 'Informacao')], { customerVisibleCategories: ['Informação'] });
    expect(plan.outbound.map((m) => m.sourceId)).toEqual(['2']);
    expect(plan.keptBack).toEqual([{ id: '1', category: 'Acompanhamento' }]);
  });

  it('still sends the solution when the last occurrence is internal', () => {
    const plan = planReplySync(conversation(), { number: '4000', status: 'Resolvida', solution: 'Feito.', finished: true }, [agent('9', 'interno', 'Memorando')]);
    expect(plan.outbound.map((m) => m.sourceId)).toEqual(['solution-4000']);
    expect(plan.close).toBe(true);
  });

  it('queues a 300 KB answer as a few DM-sized messages, each under SQS\'s limit, and the answers after it behind them', () => {
    const huge = `<p>${'Segue o relatório completo. '.repeat(11_000)}</p>`;
    const plan = planReplySync(conversation(), { number: '4000', status: 'Resolvida', solution: 'Feito.', finished: true }, [agent('1', huge), agent('2', 'depois')]);
    expect(plan.outbound.map((m) => m.sourceId)).toEqual(['1:part1', '1:part2', '1:part3', '2', 'solution-4000']);
    expect(plan.outbound.every((m) => Buffer.byteLength(JSON.stringify(m)) < 64 * 1024)).toBe(true);
    expect(plan.outbound[2].text).toContain('solicitação nº 4000');
    expect(planReplySync(conversation(), open, [agent('1', huge)], { answerMaxParts: 5 }).outbound).toHaveLength(5);
  });

  it('queues nothing twice: a second poll with the same occurrences sends nothing', () => {
    const occurrences = [agent('101', 'primeira')];
    const first = planReplySync(conversation(), open, occurrences);
    const second = planReplySync(conversation({ syncedOccurrenceIds: first.synced.ids }), open, occurrences);
    expect(first.outbound).toHaveLength(1);
    expect(second.outbound).toEqual([]);
    expect(second.syncedChanged).toBe(false);
  });

  it('ends with the solution when the request is finished, and closes the conversation', () => {
    const plan = planReplySync(conversation(), { number: '4000', status: 'Resolvida', solution: 'Toner trocado.', finished: true }, [agent('7', 'última nota')]);
    expect(plan.outbound.map((m) => m.sourceId)).toEqual(['7', 'solution-4000']);
    expect(plan.outbound[1].text).toContain('Toner trocado.');
    expect(plan.close).toBe(true);
  });

  it('skips an occurrence with no words in it but moves past it', () => {
    const plan = planReplySync(conversation(), open, [agent('5', '<p></p>')]);
    expect(plan.outbound).toEqual([]);
    expect(plan.synced.ids).toEqual(['5']);
  });

  it('sends an agent occurrence that shows up late with a number below ones already synced, once', () => {
    const first = planReplySync(conversation(), open, [agent('101', 'um'), agent('103', 'três')]);
    const late = [agent('101', 'um'), agent('102', 'dois, atrasado'), agent('103', 'três')];
    const second = planReplySync(conversation({ syncedOccurrenceIds: first.synced.ids }), open, late);
    expect(second.outbound.map((m) => [m.sourceId, m.text])).toEqual([['102', 'dois, atrasado']]);
    const third = planReplySync(conversation({ syncedOccurrenceIds: second.synced.ids }), open, late);
    expect(third.outbound).toEqual([]);
  });

  it('keeps the remembered numbers bounded: the lowest fold into the low-water mark', () => {
    expect(mergeSynced({ upTo: '10', ids: ['12', '15'] }, { ids: ['11', '9', '20'] }, 3)).toEqual({ upTo: '11', ids: ['12', '15', '20'] });
    const many = Array.from({ length: 500 }, (_, i) => agent(String(1000 + i), `n${i}`));
    const plan = planReplySync(conversation(), open, many);
    expect(plan.outbound).toHaveLength(500);
    expect(plan.synced.ids).toHaveLength(200);
    expect(plan.synced.upTo).toBe('1299');
    expect(planReplySync(conversation({ lastSyncedOccurrenceId: plan.synced.upTo, syncedOccurrenceIds: plan.synced.ids }), open, many).outbound).toEqual([]);
  });

  it('closes with the tenant\'s closing message, naming the request, when 4biz sent no solution', () => {
    const plan = planReplySync(conversation(), { number: '4000', status: 'Fechada', finished: true }, [agent('7', 'até logo')], {
      closingMessage: 'Atendimento {number} encerrado.',
    });
    expect(plan.outbound.map((m) => m.text)).toEqual(['até logo', 'Atendimento 4000 encerrado.']);
    expect(plan.close).toBe(true);
  });

  it('orders occurrence ids as numbers, beyond 2^53 too', () => {
    expect(compareDecimalIds('9', '10')).toBeLessThan(0);
    expect(compareDecimalIds('90071992547409930', '90071992547409931')).toBeLessThan(0);
    expect(compareDecimalIds('010', '10')).toBe(0);
  });
});
