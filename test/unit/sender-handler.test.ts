import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { XClient } from '../../functions/core/ports';
import { RecipientRefusedError, XAuthError, XCapReachedError, XCreditsDepletedError, XOutcomeUnknownError } from '../../functions/adapters/x-errors';
import { processedKey } from '../../functions/core/processed-key';
import type { Conversation } from '../../functions/core/conversation';
import type { OutboundMessage } from '../../functions/core/outbound-message';
import { PermanentError, TransientError } from '../../functions/core/errors';
import { createSenderHandler } from '../../functions/sender/handler';
import { testObservability } from '../support/observability';
import { lambdaContext } from '../support/x-fixtures';
import { memoryStore, recordingQueueControl } from '../support/memory-store';

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

function setup(sendDm: XClient['sendDm'], findSentDm: XClient['findSentDm'] = async () => undefined) {
  const store = memoryStore([conversation]);
  const queue = recordingQueueControl();
  const delays = queue.retries;
  const obs = testObservability();
  const sent: string[] = [];
  const lookups: Array<{ participantId: string; text: string; sinceMs?: number }> = [];
  const handler = createSenderHandler({
    ...obs,
    store,
    x: {
      sendDm: async (id, text) => {
        const out = await sendDm(id, text);
        sent.push(text);
        return out;
      },
      findSentDm: async (participantId, text, sinceMs) => {
        lookups.push({ participantId, text, sinceMs });
        return findSentDm(participantId, text, sinceMs);
      },
    },
    queue,
    backoff: { baseSeconds: 1, maxSeconds: 4 },
    clock: () => 1_000_000,
    random: () => 0,
  });
  const run = (...records: SQSRecord[]) => handler({ Records: records } as SQSEvent, lambdaContext);
  return { store, delays, deadLetters: queue.deadLetters, obs, sent, lookups, run };
}

/** The record as SQS hands it out `ageMs` after it was queued (its SentTimestamp). */
function queuedAgo(r: SQSRecord, ageMs: number): SQSRecord {
  (r.attributes as unknown as Record<string, string>).SentTimestamp = String(1_000_000 - ageMs);
  return r;
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
    expect(delays).toEqual([{ receiptHandle: 'rh-m1', seconds: 8 }]);
    expect(obs.published().XRateLimited).toBe(1);
  });

  it('waits out any number of rate limits without using up the reply\'s attempts (X allows 15 DMs per 15 minutes)', async () => {
    const { delays, deadLetters, run } = setup(async () => {
      throw new TransientError('429', 429, 1_000_000 + 900_000);
    });
    // Far more 429s than the failure policy's attempts (8): each one waits for the reset, none is a DLQ.
    for (let i = 0; i < 20; i++) await run(record(reply(), `m1-${i}`));
    expect(deadLetters).toEqual([]);
    expect(delays).toHaveLength(20);
    expect(delays.every((d) => d.seconds === 900)).toBe(true);
  });

  it('moves a reply that keeps failing without a reset time to the DLQ after its attempts', async () => {
    const { deadLetters, run } = setup(async () => {
      throw new TransientError('503', 503);
    });
    for (let i = 0; i < 8; i++) await run(record(reply(), `m1-${i}`));
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]!.reason).toContain('failed 8 attempts');
  });

  it('keeps retrying a reply that keeps failing until it has also waited the retry window (6 h), then moves it to the DLQ', async () => {
    const { deadLetters, run } = setup(async () => {
      throw new TransientError('503', 503);
    });
    const queued = (ageMs: number, id: string) => {
      const r = record(reply(), id);
      (r.attributes as unknown as Record<string, string>).SentTimestamp = String(1_000_000 - ageMs);
      return r;
    };
    // Eight failures within minutes of being queued: a short outage, never a reason to break the person's order.
    for (let i = 0; i < 8; i++) await run(queued(4 * 60_000, `recent-${i}`));
    expect(deadLetters).toEqual([]);
    // Still failing once it has waited longer than the window: to the DLQ.
    await run(queued(6 * 3600_000 + 1, 'old'));
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]!.reason).toContain('failed 9 attempts');
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

  it('moves an unreadable message to the outbound DLQ (never dropped) without blocking the person\'s replies', async () => {
    const { run, obs, sent, deadLetters } = setup(async () => ({}));
    expect(await run(record('{"text":'), record(reply(), 'm2'))).toEqual({ batchItemFailures: [] });
    expect(obs.published().InvalidQueueMessage).toBe(1);
    expect(deadLetters).toEqual([expect.objectContaining({ messageId: 'm1', body: '{"text":' })]);
    expect(sent).toEqual(['Olá Maria']);
  });

  it('sends a reply X refuses because the person does not accept DMs to the DLQ with the reason, without the key alarm', async () => {
    const { run, obs, deadLetters } = setup(async () => {
      throw new RecipientRefusedError('X answered HTTP 403 (Forbidden): the person does not accept DMs from the account', 403);
    });
    expect(await run(record(reply()))).toEqual({ batchItemFailures: [] });
    expect(deadLetters).toEqual([expect.objectContaining({ messageId: 'm1', reason: expect.stringContaining('does not accept DMs') })]);
    expect(obs.published()).toMatchObject({ RecipientRefusedDm: 1 });
    expect(obs.published().XAuthFailure).toBeUndefined();
  });

  it('moves an answer X will never take to the outbound DLQ with the reason, and sends the person\'s next answer and closing in the same batch', async () => {
    const { run, sent, deadLetters } = setup(async (_id, text) => {
      if (text === 'recusada') throw new PermanentError('X answered HTTP 400 (Bad Request): text is invalid', 400);
      return { dmEventId: 'd1' };
    });
    const batch = [record(reply({ text: 'recusada' }), 'm1'), record(reply({ text: 'depois', sourceId: '90002' }), 'm2'), record(reply({ text: 'fim', sourceId: 'solution-4000', kind: 'solution' }), 'm3')];
    expect(await run(...batch)).toEqual({ batchItemFailures: [] });
    expect(deadLetters).toEqual([expect.objectContaining({ messageId: 'm1', reason: expect.stringContaining('HTTP 400') })]);
    expect(sent).toEqual(['depois', 'fim']);
  });

  it('publishes how long each answer waited in the queue before it was sent (ReplyWaitSeconds)', async () => {
    const { run, obs } = setup(async () => ({ dmEventId: 'd1' }));
    await run(queuedAgo(record(reply()), 90_000));
    expect(obs.published().ReplyWaitSeconds).toBe(90);
  });

  it('retries a reply while X refuses the keys, and moves it to the DLQ only after its own attempts', async () => {
    const { run, obs, deadLetters, store } = setup(async () => {
      throw new XAuthError('401', 401);
    });
    for (let i = 0; i < 7; i++) expect(await run(record(reply(), `try-${i}`))).toEqual({ batchItemFailures: [{ itemIdentifier: `try-${i}` }] });
    expect(deadLetters).toEqual([]);
    expect(await run(record(reply(), 'try-7'))).toEqual({ batchItemFailures: [] });
    expect(deadLetters).toHaveLength(1);
    // Reset once in the DLQ, so a redrive gets all its attempts again.
    expect(store.attempts.get(processedKey.sent('90001'))).toBe(0);
    expect(obs.published().XAuthFailure).toBe(8);
  });

  it('waits while X has no credits (402 CreditsDepleted) for as long as it takes, never dead-lettering the reply, and raises XCreditsDepleted', async () => {
    const { run, obs, deadLetters, delays } = setup(async () => {
      throw new XCreditsDepletedError('X answered HTTP 402 (CreditsDepleted)', 402);
    });
    for (let i = 0; i < 20; i++) await run(queuedAgo(record(reply(), `m1-${i}`), 2 * 24 * 3600_000));
    expect(deadLetters).toEqual([]);
    expect(delays).toHaveLength(20);
    expect(obs.published().XCreditsDepleted).toBe(20);
  });

  it('waits for the daily cap\'s reset without using up the reply\'s attempts, and raises XCapReached', async () => {
    const { run, obs, deadLetters, delays, store } = setup(async () => {
      throw new XCapReachedError('X answered HTTP 429: the daily DM cap (user) is reached', 429, 1_000_000 + 3 * 3600_000);
    });
    for (let i = 0; i < 10; i++) await run(record(reply(), `m1-${i}`));
    expect(deadLetters).toEqual([]);
    expect(delays.every((d) => d.seconds === 3 * 3600)).toBe(true);
    expect(store.attempts.get(processedKey.sent('90001')) ?? 0).toBe(0);
    expect(obs.published().XCapReached).toBe(10);
  });

  it('does not send a reply twice when X stored it but the answer was lost: it looks at the conversation once, then skips it', async () => {
    let calls = 0;
    const stored: string[] = [];
    const { run, sent, lookups } = setup(
      async (_id, text) => {
        calls++;
        stored.push(text);
        // X stores the DM, then answers 503.
        if (calls === 1) throw new XOutcomeUnknownError('X answered HTTP 503', 503);
        return {};
      },
      async (_id, text) => (stored.includes(text) ? { dmEventId: 'd1' } : undefined),
    );
    expect(await run(queuedAgo(record(reply()), 5_000))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(await run(queuedAgo(record(reply(), 'm1-retry'), 5_000))).toEqual({ batchItemFailures: [] });
    expect(stored).toEqual(['Olá Maria']);
    expect(sent).toEqual([]);
    // One lookup, for DMs since the reply was queued (less a minute of clock slack).
    expect(lookups).toEqual([{ participantId: conversation.xUserId, text: 'Olá Maria', sinceMs: 1_000_000 - 5_000 - 60_000 }]);
    // Nothing left to look for: a third delivery is skipped by the sent-marker.
    await run(record(reply(), 'm1-again'));
    expect(lookups).toHaveLength(1);
  });

  it('sends again after a lost answer when X had not stored the DM', async () => {
    let calls = 0;
    const { run, sent, lookups } = setup(async () => {
      if (++calls === 1) throw new XOutcomeUnknownError('X did not answer within 10000 ms');
      return {};
    });
    await run(record(reply()));
    await run(record(reply(), 'm1-retry'));
    expect(sent).toEqual(['Olá Maria']);
    expect(lookups).toHaveLength(1);
  });

  it('sends again when X refuses the lookup for good (a reply is never lost for a check), and waits when the lookup fails for now', async () => {
    let calls = 0;
    const sendDm = async () => {
      if (++calls === 1) throw new XOutcomeUnknownError('X answered HTTP 503', 503);
      return {};
    };
    const refused = setup(sendDm, async () => {
      throw new PermanentError('X answered HTTP 404', 404);
    });
    await refused.run(record(reply()));
    expect(await refused.run(record(reply(), 'm1-retry'))).toEqual({ batchItemFailures: [] });
    expect(refused.sent).toEqual(['Olá Maria']);

    calls = 0;
    const down = setup(sendDm, async () => {
      throw new XOutcomeUnknownError('X did not answer');
    });
    await down.run(record(reply()));
    expect(await down.run(record(reply(), 'm1-retry'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1-retry' }] });
    expect(down.sent).toEqual([]);
  });

  it('pays for no lookup after failures X answered (429, 402, 401): X stored nothing', async () => {
    const failures = [new TransientError('429', 429, 1_000_001), new XCreditsDepletedError('402', 402), new XAuthError('401', 401)];
    const { run, sent, lookups } = setup(async () => {
      const f = failures.shift();
      if (f) throw f;
      return {};
    });
    for (let i = 0; i < 4; i++) await run(record(reply(), `m1-${i}`));
    expect(sent).toEqual(['Olá Maria']);
    expect(lookups).toEqual([]);
  });

  it('keeps sent-markers apart from inbound processed events (a forged inbound id cannot block a reply)', async () => {
    const { run, sent, store } = setup(async () => ({}));
    await store.markProcessed(processedKey.inbound('out:90001'), conversation.xUserId);
    await store.markProcessed(processedKey.inbound('90001'), conversation.xUserId);
    await run(record(reply()));
    expect(sent).toEqual(['Olá Maria']);
  });
});
