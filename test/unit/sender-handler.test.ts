import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { ConversationStore, XClient } from '../../functions/core/ports';
import { ConflictError } from '../../functions/core/errors';
import { XAuthError } from '../../functions/adapters/x-client';
import type { Conversation } from '../../functions/core/conversation';
import type { OutboundMessage } from '../../functions/core/outbound-message';
import { TransientError } from '../../functions/core/errors';
import { createSenderHandler } from '../../functions/sender/handler';
import { testObservability } from '../support/observability';
import { lambdaContext } from '../support/x-fixtures';

function memoryStore(initial: Conversation[]): ConversationStore & { processed: Set<string>; conversations: Map<string, Conversation> } {
  const conversations = new Map(initial.map((c) => [c.xUserId, c]));
  const processed = new Set<string>();
  const save = async (c: Conversation, expected: number | undefined) => {
    if ((conversations.get(c.xUserId)?.version ?? undefined) !== expected) throw new ConflictError('changed');
    const saved = { ...c, version: (expected ?? 0) + 1 };
    conversations.set(c.xUserId, saved);
    return saved;
  };
  return {
    conversations,
    processed,
    get: async (id) => conversations.get(id),
    save,
    listOpen: async () => [...conversations.values()].filter((c) => c.status === 'OPEN'),
    isProcessed: async (id) => processed.has(id),
    markProcessed: async (id) => void processed.add(id),
    saveDelivered: async (c, expected, id) => {
      const saved = await save(c, expected);
      processed.add(id);
      return saved;
    },
  };
}

const conversation: Conversation = {
  xUserId: '2900000000000000042',
  conversationId: '2900000000000000042-1',
  status: 'OPEN',
  openedAt: '2024-11-25T02:00:00.000Z',
  lastActivityAt: '2024-11-25T02:00:00.000Z',
  messagesIn: 1,
  messagesOut: 0,
  requestNumber: '4000',
  version: 1,
};

const reply = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  xUserId: conversation.xUserId,
  recipientId: conversation.xUserId,
  text: 'Olá Maria',
  sourceId: '90001',
  kind: 'occurrence',
  requestNumber: '4000',
  conversationId: conversation.conversationId,
  ...over,
});

const record = (body: unknown, id = 'm1'): SQSRecord =>
  ({
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', MessageGroupId: conversation.xUserId, SequenceNumber: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:outbound.fifo',
    awsRegion: 'us-east-1',
  }) as unknown as SQSRecord;

function setup(sendDm: XClient['sendDm']) {
  const store = memoryStore([conversation]);
  const delays: Array<[string, number]> = [];
  const obs = testObservability();
  const sent: string[] = [];
  const handler = createSenderHandler({
    ...obs,
    store,
    x: {
      sendDm: async (id, text) => {
        const out = await sendDm(id, text);
        sent.push(text);
        return out;
      },
    },
    queue: { delay: async (h, s) => void delays.push([h, s]) },
    backoff: { baseSeconds: 1, maxSeconds: 4 },
    clock: () => 1_000_000,
    random: () => 0,
  });
  const run = (...records: SQSRecord[]) => handler({ Records: records } as SQSEvent, lambdaContext);
  return { store, delays, obs, sent, run };
}

describe('sender', () => {
  it('sends a reply once, counts it in the conversation, and skips it when it is delivered again', async () => {
    const { store, sent, run, obs } = setup(async () => ({ dmEventId: 'd1' }));
    expect(await run(record(reply()))).toEqual({ batchItemFailures: [] });
    expect(await run(record(reply(), 'm1-again'))).toEqual({ batchItemFailures: [] });
    expect(sent).toEqual(['Olá Maria']);
    expect(store.conversations.get(conversation.xUserId)?.messagesOut).toBe(1);
    expect(obs.published()).toMatchObject({ DmSent: 1, DuplicateSkipped: 1 });
  });

  it('delays a rate-limited reply until the reset and reports it failed, never dropping it', async () => {
    const { delays, run, obs } = setup(async () => {
      throw new TransientError('429', 429, 1_000_000 + 7_500);
    });
    expect(await run(record(reply()))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(delays).toEqual([['rh-m1', 8]]);
    expect(obs.published().XRateLimited).toBe(1);
  });

  it('fails loudly when X refuses the keys', async () => {
    const { run, obs } = setup(async () => {
      throw new XAuthError('401', 401);
    });
    expect(await run(record(reply()))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(obs.published().XAuthFailure).toBe(1);
  });

  it('does not send again the parts of a split reply that already went out', async () => {
    let calls = 0;
    const { sent, run } = setup(async () => {
      calls++;
      if (calls === 2) throw new TransientError('503', 503);
      return {};
    });
    const text = `${'a '.repeat(6000)}fim`;
    await run(record(reply({ text })));
    await run(record(reply({ text }), 'm1-retry'));
    expect(sent).toHaveLength(2);
    expect(sent.join('')).toBe(text);
  });

  it('drops an unreadable message with an error metric instead of blocking the person\'s replies', async () => {
    const { run, obs, sent } = setup(async () => ({}));
    expect(await run(record('{"text":'), record(reply(), 'm2'))).toEqual({ batchItemFailures: [] });
    expect(obs.published().InvalidQueueMessage).toBe(1);
    expect(sent).toEqual(['Olá Maria']);
  });
});
