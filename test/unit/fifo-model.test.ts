import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDispatcherHandler } from '../../functions/dispatcher/handler';
import { DEFAULT_MAX_ATTEMPTS } from '../../functions/core/failure-policy';
import { TransientError } from '../../functions/core/errors';
import { processedKey } from '../../functions/core/processed-key';
import { tenantConfigSchema } from '../../infra/tenant-config';
import { testObservability } from '../support/observability';
import { memoryStore } from '../support/memory-store';
import { memoryCircuit } from '../support/memory-circuit';
import { lambdaContext } from '../support/x-fixtures';
import { fifoModel } from '../support/sqs-fifo-model';
import { modelDm, T0, tenantQueueModel } from '../support/fifo-model-tenant';

/** Issue 8 §4: the real dispatcher on a model of SQS FIFO + Lambda's event source. */
describe('a failing DM on SQS FIFO (model of AWS behaviour)', () => {
  // The tenant defaults, as the stack deploys them.
  const tenant = tenantConfigSchema.parse({ name: 'model', region: 'sa-east-1', xAccountId: '1', fourbiz: { mode: 'relay', callbackUrl: 'https://4biz.example/cb' } });

  it('moves the failing DM to the DLQ alone after its own attempts; the two DMs behind it are delivered afterwards, in order', async () => {
    const model = tenantQueueModel(tenant);
    const store = memoryStore();
    const delivered: string[] = [];
    const tried: string[] = [];
    let failing = true;
    const dispatcher = createDispatcherHandler({
      ...testObservability(),
      store,
      circuit: memoryCircuit(),
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
      clock: () => T0 + model.clock(),
      random: () => 0.5,
    });
    const handler = (e: SQSEvent) => dispatcher(e, lambdaContext as Context) as Promise<SQSBatchResponse>;

    model.send(modelDm('42', '5001', T0), '42');
    model.send(modelDm('42', '5002', T0 + 1000), '42');
    model.send(modelDm('42', '5003', T0 + 2000), '42');
    model.send(modelDm('77', '6001', T0 + 500), '77');

    await model.run(handler);

    expect(model.deadLettered.map((d) => JSON.parse(d.body).eventId)).toEqual(['5001']);
    expect(model.deadLettered[0].reason).toMatch(/failed \d+ attempts/);
    expect(model.redriven).toEqual([]);
    expect(delivered.filter((id) => id.startsWith('50'))).toEqual(['5002', '5003']);
    expect(delivered).toContain('6001');
    // The failing DM was tried its attempts (and until it had failed 6 hours); the ones behind it never before it left.
    expect(tried.filter((id) => id === '5001').length).toBeGreaterThanOrEqual(DEFAULT_MAX_ATTEMPTS);
    expect(tried.indexOf('5002')).toBeGreaterThan(tried.lastIndexOf('5001'));
    // Its count starts again once it is in the DLQ: a redrive gives it all its attempts anew.
    expect(store.attempts.get(processedKey.inbound('5001'))).toBe(0);
    expect(store.attempts.get(processedKey.inbound('5002'))).toBeUndefined();

    // 4biz accepts it once the cause is fixed; a redrive puts it back, behind the person's newer DMs.
    failing = false;
    for (const d of model.deadLettered) model.send(JSON.parse(d.body), d.groupId!);
    await model.run(handler);
    expect(delivered.filter((id) => id.startsWith('50'))).toEqual(['5002', '5003', '5001']);
  });

  it('shows why SQS\'s receive count cannot decide: with a redrive policy, DMs never tried are moved with the failing one', async () => {
    // The old stack: the queue's redrive at the shipped example's 10, a DM that fails 10 times.
    const model = fifoModel({ visibilityTimeoutSeconds: 180, maxReceiveCount: 10 });
    const dispatcher = createDispatcherHandler({
      ...testObservability(),
      store: memoryStore(),
      circuit: memoryCircuit(),
      fourbiz: { mode: 'relay', deliver: async (m) => (m.eventId === '5001' ? Promise.reject(new TransientError('503', 503)) : {}) },
      queue: model.control,
      idleMinutes: 60,
      backoff: { baseSeconds: 2, maxSeconds: 60 },
      maxAttempts: 100,
      clock: () => T0 + model.clock(),
    });
    model.send(modelDm('42', '5001', T0), '42');
    model.send(modelDm('42', '5002', T0 + 1000), '42');
    await model.run((e) => dispatcher(e, lambdaContext as Context) as Promise<SQSBatchResponse>);
    // Never tried, yet redriven together with the failing one.
    expect(model.redriven.map((m) => JSON.parse(m.body).eventId)).toEqual(['5001', '5002']);
  });
});
