import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { FourbizClient } from '../../functions/core/ports';
import { FourbizAuthError, PermanentError, RequestFinishedError, TransientError } from '../../functions/core/errors';
import type { DeliveryContext } from '../../functions/core/ports';
import type { InboundMessage } from '../../functions/core/x-events';
import { createDispatcherHandler } from '../../functions/dispatcher/handler';
import { createObservability } from '../../functions/observability';
import { lambdaContext } from '../support/x-fixtures';
import { memoryStore, recordingQueueControl } from '../support/memory-store';
import { processedKey, PROCESSED_EVENT_LIFETIME_SECONDS } from '../../functions/core/processed-key';
import { testObservability } from '../support/observability';
import { memoryCircuit } from '../support/memory-circuit';

function message(sender: string, eventId: string, atMs = 1_732_500_000_000): InboundMessage {
  return {
    eventId,
    createdTimestamp: String(atMs),
    createdAt: new Date(atMs).toISOString(),
    forUserId: '1',
    sender: { id: sender, handle: `h${sender}` },
    recipientId: '1',
    text: 'oi',
    attachments: [],
    raw: {
      event: { type: 'message_create', id: eventId, created_timestamp: String(atMs), message_create: { sender_id: sender, target: { recipient_id: '1' }, message_data: { text: 'oi' } } },
      users: { [sender]: { id: sender } },
    },
  };
}

let seq = 0;
function record(body: unknown, group: string, receiveCount = 1): SQSRecord {
  seq++;
  return {
    messageId: `m-${seq}`,
    receiptHandle: `rh-${seq}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
      MessageGroupId: group,
      MessageDeduplicationId: `d-${seq}`,
      SequenceNumber: String(seq),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q.fifo',
    awsRegion: 'us-east-1',
  };
}

function setup(fail: (m: InboundMessage) => Error | undefined = () => undefined) {
  const store = memoryStore();
  const delivered: string[] = [];
  const fourbiz: FourbizClient = {
    mode: 'relay',
    async deliver(m) {
      const err = fail(m);
      if (err) throw err;
      delivered.push(m.eventId);
      return {};
    },
  };
  const queue = recordingQueueControl();
  const { retries, deadLetters } = queue;
  const handler = createDispatcherHandler({
    circuit: memoryCircuit(),
    ...createObservability('test'),
    store,
    fourbiz,
    queue,
    idleMinutes: 60,
    backoff: { baseSeconds: 2, maxSeconds: 900 },
    random: () => 1,
  });
  const run = (records: SQSRecord[]) => handler({ Records: records } as SQSEvent, lambdaContext);
  return { store, delivered, retries, deadLetters, run };
}

describe('dispatcher handler', () => {
  it('delivers each record and acknowledges the whole batch', async () => {
    const t = setup();
    const res = await t.run([record(message('101', '9001'), '101'), record(message('202', '9101'), '202'), record(message('101', '9002'), '101')]);
    expect(res.batchItemFailures).toEqual([]);
    expect(t.delivered).toEqual(['9001', '9101', '9002']);
    expect(t.store.conversations.get('101')).toMatchObject({ messagesIn: 2, lastDeliveredEventId: '9002', status: 'OPEN' });
  });

  it('acknowledges an already-delivered event without delivering it again', async () => {
    const t = setup();
    await t.store.markProcessed(processedKey.inbound('9001'), '101');
    const res = await t.run([record(message('101', '9001'), '101')]);
    expect(res.batchItemFailures).toEqual([]);
    expect(t.delivered).toEqual([]);
  });

  it('on a transient failure: backs off through the visibility timeout and keeps later messages of that user behind it', async () => {
    const t = setup((m) => (m.eventId === '9001' ? new TransientError('503', 503) : undefined));
    // Three failed attempts already counted for this DM (its own, in the table): this is its 4th.
    t.store.attempts.set(processedKey.inbound('9001'), 3);
    const a1 = record(message('101', '9001'), '101');
    const a2 = record(message('101', '9002'), '101');
    const b1 = record(message('202', '9101'), '202');
    const res = await t.run([a1, a2, b1]);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([a1.messageId, a2.messageId].sort());
    expect(t.delivered).toEqual(['9101']);
    // 4th attempt, full jitter at its ceiling: 2·2^3 s; the skipped follower is released at once, FIFO keeps it behind.
    expect(t.retries).toEqual(expect.arrayContaining([{ receiptHandle: a1.receiptHandle, seconds: 16 }, { receiptHandle: a2.receiptHandle, seconds: 0 }]));
    expect(t.deadLetters).toEqual([]);
  });

  it('does not start a record without time left for it, and hands it back at once', async () => {
    const t = setup();
    const r = record(message('101', '9001'), '101');
    const handler = createDispatcherHandler({
      circuit: memoryCircuit(),
      ...createObservability('test'),
      store: t.store,
      fourbiz: { mode: 'relay', deliver: async (m) => (t.delivered.push(m.eventId), {}) },
      queue: { retryIn: async (receiptHandle, seconds) => void t.retries.push({ receiptHandle, seconds }), deadLetter: async () => undefined },
      idleMinutes: 60,
      backoff: { baseSeconds: 1, maxSeconds: 1 },
      reserveMs: 6_000,
    });
    const res = await handler({ Records: [r] } as SQSEvent, { ...lambdaContext, getRemainingTimeInMillis: () => 2_000 });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
    expect(t.delivered).toEqual([]);
    expect(t.retries).toEqual([{ receiptHandle: r.receiptHandle, seconds: 0 }]);
  });

  it('waits at least until a reset time the far side gave', async () => {
    const t = setup(() => new TransientError('429', 429, Date.now() + 120_000));
    const r = record(message('101', '9001'), '101');
    await t.run([r]);
    expect(t.retries[0].seconds).toBeGreaterThanOrEqual(119);
  });

  it('on a permanent failure: copies the message to the DLQ with the reason and acknowledges it, the user’s next DM goes on', async () => {
    const t = setup((m) => (m.eventId === '9001' ? new PermanentError('4biz callback answered 400: bad', 400) : undefined));
    const a1 = record(message('101', '9001'), '101');
    const res = await t.run([a1, record(message('101', '9002'), '101')]);
    expect(res.batchItemFailures).toEqual([]);
    expect(t.deadLetters).toEqual([{ messageId: a1.messageId, body: a1.body, groupId: '101', reason: '4biz callback answered 400: bad' }]);
    expect(t.delivered).toEqual(['9002']);
  });

  it('keeps the message for a retry when even the DLQ cannot take it (nothing is lost)', async () => {
    const t = setup();
    const r = record(message('101', '9001'), '101');
    const failingDlq = createDispatcherHandler({
      circuit: memoryCircuit(),
      ...createObservability('test'),
      store: t.store,
      fourbiz: { mode: 'relay', deliver: async () => Promise.reject(new PermanentError('400', 400)) },
      queue: { retryIn: async () => undefined, deadLetter: async () => Promise.reject(new Error('SQS down')) },
      idleMinutes: 60,
      backoff: { baseSeconds: 1, maxSeconds: 1 },
    });
    const res = await failingDlq({ Records: [r] } as SQSEvent, lambdaContext);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
  });

  it.each([
    ['not JSON', 'this is not json'],
    ['not an inbound message', { hello: 'world' }],
  ])('sends a queue message that is %s to the DLQ instead of looping or dropping it', async (_, body) => {
    const t = setup();
    const r = record(body, 'g');
    const res = await t.run([r]);
    expect(res.batchItemFailures).toEqual([]);
    expect(t.deadLetters).toHaveLength(1);
    expect(t.deadLetters[0]).toMatchObject({ messageId: r.messageId, body: r.body });
    expect(t.delivered).toEqual([]);
  });

  it('retries its write when another writer changed the conversation meanwhile (optimistic locking)', async () => {
    const t = setup();
    await t.run([record(message('101', '9001'), '101')]);
    t.store.conflictsToRaise = 1;
    const res = await t.run([record(message('101', '9002', 1_732_500_060_000), '101')]);
    expect(res.batchItemFailures).toEqual([]);
    // The other writer's change (a reply counted) survives; ours is applied on top.
    expect(t.store.conversations.get('101')).toMatchObject({ messagesIn: 2, messagesOut: 1 });
    expect(t.delivered).toEqual(['9001', '9002']);
  });

  it('delivers again rather than lose the DM when its delivery could not be recorded (at least once)', async () => {
    const t = setup();
    const r = record(message('101', '9001'), '101');
    const saveDelivered = t.store.saveDelivered;
    t.store.saveDelivered = async () => Promise.reject(new Error('DynamoDB throttled'));
    const first = await t.run([r]);
    expect(first.batchItemFailures).toHaveLength(1);
    t.store.saveDelivered = saveDelivered;
    await t.run([record(message('101', '9001'), '101', 2)]);
    // At-least-once: the retry delivers again because nothing recorded the first delivery.
    expect(t.delivered).toEqual(['9001', '9001']);
    expect(t.store.conversations.get('101')).toMatchObject({ messagesIn: 1 });
  });

  it('retries a DM while 4biz refuses the credentials (FourbizAuthFailure), never the DLQ at once', async () => {
    const t = setup(() => new FourbizAuthError('4biz callback answered 401', 401));
    const obs = testObservability();
    const handler = createDispatcherHandler({
      circuit: memoryCircuit(),
      ...obs,
      store: t.store,
      fourbiz: { mode: 'relay', deliver: async () => Promise.reject(new FourbizAuthError('4biz callback answered 401', 401)) },
      queue: recordingQueueControl(),
      idleMinutes: 60,
      backoff: { baseSeconds: 1, maxSeconds: 1 },
    });
    const r = record(message('101', '9001'), '101');
    const res = await handler({ Records: [r] } as SQSEvent, lambdaContext);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
    expect(obs.published()).toMatchObject({ FourbizAuthFailure: 1, FourbizTransientError: 1 });
    expect(obs.published().FourbizPermanentError).toBeUndefined();
  });

  it('tells 4biz when a DM was received before (look before writing again); a DM waiting for a finished request is no 4biz error', async () => {
    const obs = testObservability();
    const contexts: Array<DeliveryContext | undefined> = [];
    const queue = recordingQueueControl();
    const handler = createDispatcherHandler({
      circuit: memoryCircuit(),
      ...obs,
      store: memoryStore(),
      fourbiz: {
        mode: 'tickets',
        async deliver(_m, _c, context) {
          contexts.push(context);
          throw new RequestFinishedError('4biz request 4000 is Resolvida');
        },
      },
      queue,
      idleMinutes: 60,
      backoff: { baseSeconds: 1, maxSeconds: 1 },
    });
    for (const receiveCount of [1, 3]) {
      const r = record(message('101', '9001'), '101', receiveCount);
      expect((await handler({ Records: [r] } as SQSEvent, lambdaContext)).batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
    }
    // Back from the DLQ after a redrive: a first receive again, but it carries the reason it was dead-lettered.
    const redriven = record(message('101', '9001'), '101', 1);
    redriven.messageAttributes = { failureReason: { dataType: 'String', stringValue: 'failed 8 attempts' } };
    await handler({ Records: [redriven] } as SQSEvent, lambdaContext);
    expect(contexts).toEqual([{ retried: false }, { retried: true }, { retried: true }]);
    // However long the poller takes (more waits than the policy's attempts, SentTimestamp 0: ages ago), a wait is never a DLQ.
    for (let i = 0; i < 12; i++) await handler({ Records: [record(message('101', '9001'), '101', 4 + i)] } as SQSEvent, lambdaContext);
    expect(queue.deadLetters).toEqual([]);
    expect(obs.published().FourbizTransientError).toBeUndefined();
  });

  it('recognises an old DM as a duplicate, and forwards one older than the processed-record lifetime but counts it', async () => {
    const now = 1_732_500_000_000 + 40 * 86_400_000;
    const obs = testObservability();
    const t = setup();
    const handler = createDispatcherHandler({
      circuit: memoryCircuit(),
      ...obs,
      store: t.store,
      fourbiz: { mode: 'relay', deliver: async (m) => (t.delivered.push(m.eventId), {}) },
      queue: recordingQueueControl(),
      idleMinutes: 60,
      backoff: { baseSeconds: 1, maxSeconds: 1 },
      clock: () => now,
    });
    // Replayed by X a day later: still a duplicate.
    await t.store.markProcessed(processedKey.inbound('9001'), '101');
    await handler({ Records: [record(message('101', '9001', now - 86_400_000), '101')] } as SQSEvent, lambdaContext);
    expect(t.delivered).toEqual([]);
    // Older than the lifetime: nothing could recognise a repeat, so it is forwarded and counted.
    await handler({ Records: [record(message('101', '9002', now - (PROCESSED_EVENT_LIFETIME_SECONDS + 3600) * 1000), '101')] } as SQSEvent, lambdaContext);
    expect(t.delivered).toEqual(['9002']);
    expect(obs.published()).toMatchObject({ DuplicateSkipped: 1, OldDmReceived: 1, DeliveredTo4biz: 1 });
  });

  it('does not let a created_timestamp far in the future pin the conversation open', async () => {
    const receivedAt = 1_732_500_000_000;
    const t = setup();
    const m = { ...message('101', '9001', receivedAt + 365 * 86_400_000), receivedAt: new Date(receivedAt).toISOString() };
    await t.run([record(m, '101')]);
    expect(t.delivered).toEqual(['9001']);
    // Bookkeeping at the time received: the idle timeout can still close this conversation.
    expect(t.store.conversations.get('101')).toMatchObject({ lastActivityAt: new Date(receivedAt).toISOString() });
  });
});
