import { createOutageCircuit, type CircuitRecord, type CircuitStore, type OutageCircuit } from '../../functions/core/outage-circuit';

/** The outage circuit's store in memory, with the DynamoDB store's semantics (one record, conditional probe). */
export function memoryCircuitStore(): CircuitStore & { record: CircuitRecord } {
  const store = {
    record: { failures: {} } as CircuitRecord,
    async read() {
      return structuredClone(store.record);
    },
    async noteFailure(xUserId: string, atMs: number, forgetBeforeMs: number) {
      store.record.failures[xUserId] ??= atMs;
      for (const [id, at] of Object.entries(store.record.failures)) if (at < forgetBeforeMs) delete store.record.failures[id];
      return structuredClone(store.record);
    },
    async open(atMs: number, firstProbeAtMs: number) {
      store.record.openedAt ??= atMs;
      store.record.probeAt ??= firstProbeAtMs;
    },
    async claimProbe(nowMs: number, nextProbeAtMs: number) {
      if (store.record.openedAt === undefined || (store.record.probeAt !== undefined && store.record.probeAt > nowMs)) return false;
      store.record.probeAt = nextProbeAtMs;
      return true;
    },
    async close() {
      store.record = { failures: {} };
    },
  };
  return store;
}

/** A circuit over a fresh in-memory store; `maxWaitMs` defaults to the tenant default (96 h). */
export function memoryCircuit(opts: { maxWaitMs?: number; random?: () => number; store?: CircuitStore } = {}): OutageCircuit {
  return createOutageCircuit(opts.store ?? memoryCircuitStore(), { maxWaitMs: opts.maxWaitMs ?? 96 * 3600_000, random: opts.random });
}
