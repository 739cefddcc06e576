/**
 * The 4biz outage circuit, shared by every dispatcher instance through the conversation table.
 * A DM that fails because 4biz fails for everyone is not at fault: it waits without spending its
 * attempts, so an outage neither fills the DLQ nor lets a person's newer DMs overtake older ones.
 *
 * - It opens when DMs of OPEN_AFTER_PEOPLE different people have failed transiently and none has
 *   succeeded for `openAfterMs` since the first of those failures (one person's DM failing alone
 *   is that DM's problem; a 4biz that fails some calls but answers others is not down for everyone,
 *   and its DMs keep their own retries).
 * - While it is open, DMs are not tried: each waits a minute or two (its group's later DMs behind
 *   it, untouched), except one probe a minute, which is tried (CIRCUIT_TIMING).
 * - The first delivery that succeeds closes it.
 * - It shields a DM only while the DM has waited less than the tenant's outage bound
 *   (inbound.outageWaitHours): after that its failures count again, so nothing outlives the queue.
 */

export interface CircuitRecord {
  /** When the circuit opened (ms); absent while it is closed. */
  openedAt?: number;
  /** When the next probe may be tried (ms). */
  probeAt?: number;
  /** X user id → time of that person's first transient failure since the last success (ms), while closed. */
  failures: Record<string, number>;
}

/** Where the circuit lives (DynamoDB in the stack): one record, updated atomically. */
export interface CircuitStore {
  read(): Promise<CircuitRecord>;
  /** Notes this person's first transient failure since the last success (a later one keeps the first time), forgetting failures older than `forgetBeforeMs`; returns the record after it. */
  noteFailure(xUserId: string, atMs: number, forgetBeforeMs: number): Promise<CircuitRecord>;
  /** Opens the circuit at `atMs` unless it is open already; the first probe after `firstProbeAtMs`. */
  open(atMs: number, firstProbeAtMs: number): Promise<void>;
  /** True for exactly one caller once `probeAt` has passed; moves it to `nextProbeAtMs`. */
  claimProbe(nowMs: number, nextProbeAtMs: number): Promise<boolean>;
  /** Closes the circuit and forgets the failures. */
  close(): Promise<void>;
}

const OPEN_AFTER_PEOPLE = 2;
const FAILURE_WINDOW_MS = 15 * 60_000;
/** How often DMs probe an open circuit, and how long a waiting DM waits (jittered, so they do not all come back together). */
export interface CircuitTiming {
  /** How long 4biz must have failed for everyone (no success) before the circuit opens. */
  openAfterMs: number;
  probeIntervalMs: number;
  waitSeconds: { min: number; max: number };
}

const CIRCUIT_TIMING: CircuitTiming = { openAfterMs: 30_000, probeIntervalMs: 60_000, waitSeconds: { min: 60, max: 120 } };

/** `npm start`: an outage of a few seconds, tried by hand, ends in seconds too. */
export const LOCAL_CIRCUIT_TIMING: CircuitTiming = { openAfterMs: 1_000, probeIntervalMs: 2_000, waitSeconds: { min: 2, max: 4 } };

/** What the dispatcher does with a DM before calling 4biz. */
type Gate = { kind: 'deliver'; circuit: CircuitRecord } | { kind: 'probe'; circuit: CircuitRecord } | { kind: 'wait'; inSeconds: number; openedAt: number };

export interface OutageCircuit {
  /** Before a delivery: deliver, probe (the circuit is open, this DM tests 4biz) or wait. */
  gate(nowMs: number, waitedMs: number | undefined): Promise<Gate>;
  /** After a delivery that 4biz accepted: closes the circuit if it was open or counting failures. */
  succeeded(seen: CircuitRecord): Promise<boolean>;
  /**
   * After a transient 4biz failure of this person's DM: `waitSeconds` when the circuit is (now)
   * open and shields the DM (it waits that long without spending an attempt); `opened` when this
   * failure opened it.
   */
  failed(xUserId: string, nowMs: number, waitedMs: number | undefined): Promise<{ opened: boolean; waitSeconds?: number }>;
}

export function createOutageCircuit(store: CircuitStore, opts: { maxWaitMs: number; timing?: CircuitTiming; random?: () => number }): OutageCircuit {
  const random = opts.random ?? Math.random;
  const { openAfterMs, probeIntervalMs, waitSeconds: wait } = opts.timing ?? CIRCUIT_TIMING;
  const waitSeconds = () => Math.round(wait.min + random() * (wait.max - wait.min));
  // Unknown age (no SentTimestamp): shielded; the queue's retention guard still applies.
  const withinBound = (waitedMs: number | undefined) => waitedMs === undefined || waitedMs < opts.maxWaitMs;
  return {
    async gate(nowMs, waitedMs) {
      const circuit = await store.read();
      if (circuit.openedAt === undefined || !withinBound(waitedMs)) return { kind: 'deliver', circuit };
      if (await store.claimProbe(nowMs, nowMs + probeIntervalMs)) return { kind: 'probe', circuit };
      return { kind: 'wait', inSeconds: waitSeconds(), openedAt: circuit.openedAt };
    },
    async succeeded(seen) {
      if (seen.openedAt === undefined && Object.keys(seen.failures).length === 0) return false;
      await store.close();
      return seen.openedAt !== undefined;
    },
    async failed(xUserId, nowMs, waitedMs) {
      const after = await store.noteFailure(xUserId, nowMs, nowMs - FAILURE_WINDOW_MS);
      let opened = false;
      if (after.openedAt === undefined) {
        const firsts = Object.values(after.failures).filter((t) => t >= nowMs - FAILURE_WINDOW_MS);
        if (firsts.length < OPEN_AFTER_PEOPLE || nowMs - Math.min(...firsts) < openAfterMs) return { opened };
        await store.open(nowMs, nowMs + probeIntervalMs);
        opened = true;
      }
      return withinBound(waitedMs) ? { opened, waitSeconds: waitSeconds() } : { opened };
    },
  };
}
