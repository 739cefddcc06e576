import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDispatcherHandler } from '../../functions/dispatcher/handler';
import { DEFAULT_MAX_ATTEMPTS } from '../../functions/core/failure-policy';
import { TransientError } from '../../functions/core/errors';
import type { InboundMessage } from '../../functions/core/x-events';
import { processedKey } from '../../functions/core/processed-key';
import { tenantConfigSchema } from '../../infra/tenant-config';
import { testObservability } from '../support/observability';
import { memoryStore } from '../support/memory-store';
import { lambdaContext } from '../support/x-fixtures';
import { fifoModel } from '../support/sqs-fifo-model';

function dm(sender: string, eventId: string, atMs: number): InboundMessage {
  return {
    eventId,
    createdTimestamp: String(atMs),
    createdAt: new Date(atMs).toISOString(),
    forUserId: '1',
    sender: { id: sender },
    recipientId: '1',
    text: `dm ${eventId}`,
    attachments: [],
    raw: {
      event: { type: 'message_create', id: eventId, created_timestamp: String(atMs), message_create: { sender_id: sender, target: { recipient_id: '1' }, message_data: { text: `dm ${eventId}` } } },
      users: { [sender]: { id: sender } },
    },
  };
}

/** Issue 8 §4 acceptance: the real dispatcher on a model of SQS FIFO + Lambda's event source. */
describe('a failing DM on SQS FIFO (model of AWS behaviour)', () => {
  // The tenant defaults, as the stack deploys them.
  const tenant = tenantConfigSchema.parse({ name: 'model', region: 'sa-east-1', xAccountId: '1', fourbiz: { mode: 'relay', callbackUrl: 'https://4biz.example/cb' } });

  it('moves the failing DM to the DLQ alone after its own attempts; the two DMs behind it are delivered afterwards, in order', async () => {
    const model = fifoModel({
      visibilityTimeoutSeconds: tenant.inbound.visibilityTimeoutSeconds,
      maxReceiveCount: tenant.inbound.maxReceiveCount,
      batchSize: tenant.inbound.batchSize,
    });
    const store = memoryStore();
    const delivered: string[] = [];
    const tried: string[] = [];
    let failing = true;
    const dispatcher = createDispatcherHandler({
      ...testObservability(),
      store,
      fourbiz: {
        mode: 'relay',
        async deliver(m) {
          tried.push(m.eventId);
          if (failing && m.eventId === '5001') throw new TransientError('4biz answered 503', 503);
          delivered.push(m.eventId);
          return {};
        },
      },
      queue: model.control,
      idleMinutes: 60,
      backoff: { baseSeconds: 2, maxSeconds: 60 },
      clock: () => 1_732_500_000_000 + model.clock(),
      random: () => 0.5,
    });
    const handler = (e: SQSEvent) => dispatcher(e, lambdaContext as Context) as Promise<SQSBatchResponse>;

    const t0 = 1_732_500_000_000;
    model.send(dm('42', '5001', t0), '42');
    model.send(dm('42', '5002', t0 + 1000), '42');
    model.send(dm('42', '5003', t0 + 2000), '42');
    model.send(dm('77', '6001', t0 + 500), '77');

    await model.run(handler);

    expect(model.deadLettered.map((d) => JSON.parse(d.body).eventId)).toEqual(['5001']);
    expect(model.deadLettered[0].reason).toMatch(new RegExp(`failed ${DEFAULT_MAX_ATTEMPTS} attempts`));
    expect(model.redriven).toEqual([]);
    expect(delivered.filter((id) => id.startsWith('50'))).toEqual(['5002', '5003']);
    expect(delivered).toContain('6001');
    // The failing DM was tried exactly its attempts; the ones behind it were never tried before it left.
    expect(tried.filter((id) => id === '5001')).toHaveLength(DEFAULT_MAX_ATTEMPTS);
    // Its count starts again once it is in the DLQ: a redrive gives it all its attempts anew.
    expect(store.attempts.get(processedKey.inbound('5001'))).toBe(0);
    expect(store.attempts.get(processedKey.inbound('5002'))).toBeUndefined();

    // 4biz accepts it once the cause is fixed; a redrive puts it back, behind the person's newer DMs.
    failing = false;
    for (const d of model.deadLettered) model.send(JSON.parse(d.body), d.groupId!);
    await model.run(handler);
    expect(delivered.filter((id) => id.startsWith('50'))).toEqual(['5002', '5003', '5001']);
  });

  it('shows why the receive count cannot decide: the DMs behind a failing one are received (and counted) with it', async () => {
    // Same model, the old rule (the queue's redrive at the old default of 10) with a DM that fails 10 times.
    const model = fifoModel({ visibilityTimeoutSeconds: 180, maxReceiveCount: 10 });
    const store = memoryStore();
    const dispatcher = createDispatcherHandler({
      ...testObservability(),
      store,
      fourbiz: { mode: 'relay', deliver: async (m) => (m.eventId === '5001' ? Promise.reject(new TransientError('503', 503)) : {}) },
      queue: model.control,
      idleMinutes: 60,
      backoff: { baseSeconds: 2, maxSeconds: 60 },
      maxAttempts: 100,
      clock: () => 1_732_500_000_000 + model.clock(),
    });
    model.send(dm('42', '5001', 1_732_500_000_000), '42');
    model.send(dm('42', '5002', 1_732_500_001_000), '42');
    await model.run((e) => dispatcher(e, lambdaContext as Context) as Promise<SQSBatchResponse>);
    // Never tried, yet redriven together with the failing one.
    expect(model.redriven.map((m) => JSON.parse(m.body).eventId)).toEqual(['5001', '5002']);
  });
});
