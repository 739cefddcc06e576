import { createOutageCircuit, LOCAL_CIRCUIT_TIMING } from '../../functions/core/outage-circuit';
import { memoryCircuitStore } from '../support/memory-circuit';

const circuit = () => {
  const store = memoryCircuitStore();
  return { store, circuit: createOutageCircuit(store, { maxWaitMs: 96 * 3600_000, timing: LOCAL_CIRCUIT_TIMING, random: () => 0 }) };
};
const t0 = 1_764_000_000_000;

describe('the 4biz outage circuit', () => {
  it('opens when two people have failed and nobody has succeeded for openAfterMs', async () => {
    const { store, circuit: c } = circuit();
    expect(await c.failed('1', t0, 0)).toEqual({ opened: false });
    expect(await c.failed('2', t0 + 500, 0)).toEqual({ opened: false });
    // The first person failing again keeps the first failure's time: 4biz has failed for 1 s now.
    expect(await c.failed('1', t0 + LOCAL_CIRCUIT_TIMING.openAfterMs, 0)).toEqual({ opened: true, waitSeconds: 2 });
    expect(store.record.openedAt).toBe(t0 + LOCAL_CIRCUIT_TIMING.openAfterMs);
    expect((await c.gate(t0 + 1_500, 0)).kind).toBe('wait');
  });

  it('stays closed while 4biz answers some calls: each success forgets the failures before it', async () => {
    const { store, circuit: c } = circuit();
    for (let i = 0; i < 20; i++) {
      const at = t0 + i * 400;
      await c.failed(String(i % 3), at, 0);
      await c.failed(String((i + 1) % 3), at + 100, 0);
      expect(await c.succeeded(await store.read())).toBe(false);
    }
    expect(store.record.openedAt).toBeUndefined();
  });

  it('never opens for one person failing alone, however long', async () => {
    const { store, circuit: c } = circuit();
    for (let i = 0; i < 10; i++) await c.failed('7', t0 + i * 60_000, 0);
    expect(store.record.openedAt).toBeUndefined();
  });
});
