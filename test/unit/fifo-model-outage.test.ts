import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDispatcherHandler } from '../../functions/dispatcher/handler';
import { DEFAULT_MAX_ATTEMPTS } from '../../functions/core/failure-policy';
import { TransientError } from '../../functions/core/errors';
import { createOutageCircuit } from '../../functions/core/outage-circuit';
import type { FourbizClient } from '../../functions/core/ports';
import { MAX_OUTAGE_WAIT_HOURS, tenantConfigSchema, tenantsDir, type TenantConfig } from '../../infra/tenant-config';
import { testObservability } from '../support/observability';
import { memoryStore } from '../support/memory-store';
import { memoryCircuitStore } from '../support/memory-circuit';
import { lambdaContext } from '../support/x-fixtures';
import { modelDm, T0, tenantQueueModel } from '../support/fifo-model-tenant';

const PEOPLE = 20;
const DMS_EACH = 50;
const OUTAGE_MS = 12 * 3600_000;

/**
 * The shipped example tenants, and the schema's extremes on the settings that shape the queue and
 * the wait. Shipped tenants whose inbound settings are the same run once, under all their names.
 */
function tenantsUnderTest(): [string, TenantConfig][] {
  const byInbound = new Map<string, [string, TenantConfig]>();
  for (const name of ['example', 'example-poll', 'example-tickets']) {
    const tenant = tenantConfigSchema.parse(JSON.parse(readFileSync(join(tenantsDir, `${name}.json`), 'utf8')));
    const key = JSON.stringify(tenant.inbound);
    const seen = byInbound.get(key);
    byInbound.set(key, seen ? [`${seen[0]}, tenants/${name}.json`, seen[1]] : [`tenants/${name}.json`, tenant]);
  }
  const shipped = [...byInbound.values()];
  const base = { name: 'edge', region: 'sa-east-1', xAccountId: '1', fourbiz: { mode: 'relay', callbackUrl: 'https://4biz.example/cb', timeoutMs: 100 } };
  const extremes = [
    { visibilityTimeoutSeconds: 60, batchSize: 1, maxConcurrency: 2, outageWaitHours: 13 },
    { visibilityTimeoutSeconds: 5400, batchSize: 10, maxConcurrency: 1000, outageWaitHours: MAX_OUTAGE_WAIT_HOURS },
  ].map((inbound): [string, TenantConfig] => [`schema extreme ${JSON.stringify(inbound)}`, tenantConfigSchema.parse({ ...base, inbound })]);
  return [...shipped, ...extremes];
}

/**
 * 20 people × 50 queued DMs through a 12-hour 4biz outage, on the tenant's queue as deployed,
 * with two dispatcher instances sharing the circuit and the table (as Lambda would run them).
 * `poison`: one DM 4biz refuses (transiently) even after the outage.
 */
async function outageRun(tenant: TenantConfig, poison?: string) {
  const model = tenantQueueModel(tenant);
  const store = memoryStore([], { now: () => T0 + model.clock() });
  const circuitStore = memoryCircuitStore();
  const tries = new Map<string, number>();
  const delivered = new Map<string, string[]>();
  let deliveries = 0;
  const fourbiz: FourbizClient = {
    mode: 'relay',
    async deliver(m) {
      tries.set(m.eventId, (tries.get(m.eventId) ?? 0) + 1);
      if (model.clock() < OUTAGE_MS) throw new TransientError('4biz answered 503', 503);
      if (m.eventId === poison) throw new TransientError('4biz answered 500 for this DM', 500);
      delivered.set(m.sender.id, [...(delivered.get(m.sender.id) ?? []), m.eventId]);
      deliveries++;
      return {};
    },
  };
  const instance = () => {
    const dispatcher = createDispatcherHandler({
      ...testObservability(),
      store,
      circuit: createOutageCircuit(circuitStore, { maxWaitMs: tenant.inbound.outageWaitHours * 3600_000 }),
      fourbiz,
      queue: model.control,
      idleMinutes: tenant.conversationIdleMinutes,
      backoff: { baseSeconds: 2, maxSeconds: 900 },
      clock: () => T0 + model.clock(),
    });
    return (e: SQSEvent) => dispatcher(e, lambdaContext as Context) as Promise<SQSBatchResponse>;
  };
  for (let k = 0; k < DMS_EACH; k++) {
    for (let p = 0; p < PEOPLE; p++) model.send(modelDm(String(1000 + p), `${1000 + p}${String(k).padStart(4, '0')}`, T0 + k * 1000 + p), String(1000 + p));
  }
  await model.run([instance(), instance()]);
  const maxTriesDuringOutage = Math.max(...[...tries.values()]);
  return { model, tries, delivered, deliveries, maxTriesDuringOutage, drainedAfterMs: model.clock() - OUTAGE_MS };
}

describe('a 12-hour 4biz outage is not a poison message (issue 16 §1, FIFO model)', () => {
  it.each(tenantsUnderTest())('%s: 20 people × 50 DMs → the DLQ stays empty, nothing expires, every person\'s DMs arrive once, in order', async (_name, tenant) => {
    const run = await outageRun(tenant);
    const { model } = run;
    console.log(
      `${_name}: ${PEOPLE * DMS_EACH} DMs, 12 h outage → delivered ${run.deliveries}, DLQ ${model.deadLettered.length}, redriven by SQS ${model.redriven.length}, ` +
        `expired ${model.expired.length}; SQS receives ${model.stats.receives}, invocations ${model.stats.invocations}; ` +
        `4biz calls ${[...run.tries.values()].reduce((a, b) => a + b, 0)}, most calls for one DM ${run.maxTriesDuringOutage}; all delivered ${Math.round(run.drainedAfterMs / 1000)} s after 4biz came back`,
    );
    expect(model.deadLettered).toEqual([]);
    expect(model.redriven).toEqual([]);
    expect(model.expired).toEqual([]);
    expect(run.deliveries).toBe(PEOPLE * DMS_EACH);
    for (let p = 0; p < PEOPLE; p++) {
      expect(run.delivered.get(String(1000 + p))).toEqual(Array.from({ length: DMS_EACH }, (_, k) => `${1000 + p}${String(k).padStart(4, '0')}`));
    }
  }, 120_000);

  it.each([tenantsUnderTest()[0], tenantsUnderTest().at(-1)!])('%s: one poison DM among them goes to the DLQ alone, after its own attempts; the person\'s later DMs follow in order', async (_name, tenant) => {
    const poison = '10070010';
    const run = await outageRun(tenant, poison);
    const { model } = run;
    const afterOutage = run.tries.get(poison)!;
    console.log(`${_name}: poison DM tried ${afterOutage} times in all, DLQ ${model.deadLettered.map((d) => JSON.parse(d.body).eventId).join(',')}, delivered ${run.deliveries}`);
    expect(model.deadLettered.map((d) => JSON.parse(d.body).eventId)).toEqual([poison]);
    expect(model.redriven).toEqual([]);
    expect(run.deliveries).toBe(PEOPLE * DMS_EACH - 1);
    const person = run.delivered.get('1007')!;
    expect(person).toEqual(Array.from({ length: DMS_EACH }, (_, k) => `1007${String(k).padStart(4, '0')}`).filter((id) => id !== poison));
    // Its own attempts were spent after the outage, while others got through.
    expect(afterOutage).toBeGreaterThanOrEqual(DEFAULT_MAX_ATTEMPTS);
  }, 120_000);
});
