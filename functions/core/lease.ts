/**
 * A lease: at most one holder runs a named job at a time (a scheduled poller whose runs could
 * overlap when one is slow). A lease expires by itself, so a holder that crashed blocks the job
 * only until then. Implemented in the conversation table (adapters/lease-store.ts); reserved
 * concurrency is not used because it fails to deploy on accounts at AWS's default quota.
 */
export interface LeaseStore {
  /** Takes `name` for `holder` for `ttlSeconds` when it is free, expired or already this holder's. */
  tryAcquire(name: string, holder: string, ttlSeconds: number): Promise<boolean>;
  /** Gives the lease back early; a no-op when another holder has taken it since. */
  release(name: string, holder: string): Promise<void>;
}

/** Runs `job` only while holding the lease: `{ ran: false }` when another run holds it. */
export async function withLease<T>(
  leases: LeaseStore,
  lease: { name: string; holder: string; ttlSeconds: number },
  job: () => Promise<T>,
): Promise<{ ran: true; result: T } | { ran: false }> {
  if (!(await leases.tryAcquire(lease.name, lease.holder, lease.ttlSeconds))) return { ran: false };
  try {
    return { ran: true, result: await job() };
  } finally {
    await leases.release(lease.name, lease.holder);
  }
}
