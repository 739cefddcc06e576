import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { functionNames } from '../../functions/config';
import { emittedBy, Metric, type EmittingFunction } from '../../functions/core/metric-names';
import { createObservability, type Observability } from '../../functions/observability';

const functionsDir = join(__dirname, '..', '..', 'functions');

/** The metric names a function's own code names (`Metric.X` in any file of functions/NAME/). */
function namedInCode(fn: EmittingFunction): string[] {
  const dir = join(functionsDir, fn);
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const names = files.flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/\bMetric\.(\w+)/g)].map((m) => m[1]!));
  return [...new Set(names)].sort();
}

describe('what each function emits (core/metric-names.ts emittedBy)', () => {
  it('declares every deployable function', () => {
    expect(Object.keys(emittedBy).sort()).toEqual([...functionNames].sort());
  });

  it.each(Object.keys(emittedBy) as EmittingFunction[])('%s: the declared list is exactly the metrics its code names', (fn) => {
    expect([...emittedBy[fn]].sort()).toEqual(namedInCode(fn));
  });

  it('no metric name is emitted by nobody', () => {
    const emitted = new Set(Object.values(emittedBy).flat());
    expect(Object.values(Metric).filter((name) => !emitted.has(name))).toEqual([]);
  });

  it("a handler's metrics take only its function's names (tsc checks the expect-error; the call itself works)", () => {
    const { metrics }: Observability<'crc'> = createObservability('test');
    metrics.addMetric(Metric.CrcAnswered, MetricUnit.Count, 1);
    // @ts-expect-error DmSent is the sender's metric, not the crc function's
    metrics.addMetric(Metric.DmSent, MetricUnit.Count, 1);
    expect(metrics.hasStoredMetrics()).toBe(true);
  });
});
