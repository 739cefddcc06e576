/** What the DM poller keeps between runs (polling mode): core/dm-poll.ts reads and writes it through the DmPollStateStore port. */
export interface DmPollState {
  /** Every DM event with an id up to this one is queued (or was passed over as history). */
  cursor?: string;
  /** Every DM event older than this one is queued; this one and newer ones may not be. */
  boundaryId?: string;
  /** Until a cursor exists: DMs created before this instant (epoch ms) are history, not queued. */
  floorMs?: number;
  /**
   * Where walks that stopped early continue, deepest last: each walk's next page token and the
   * oldest event it had read.
   */
  resume?: { token: string; oldestId?: string }[];
  /**
   * The overlap (core/dm-poll.ts DM_POLL_OVERLAP_MS): events up to the cursor created at or after this
   * instant (epoch ms) are read again by the next walk that ends at the cursor, so a DM X's lookup
   * shows late is still queued.
   */
  overlapFromMs?: number;
  /** Events of the overlap already queued, skipped or reported (id, created at), newest first: not queued again. */
  recent?: { id: string; atMs: number }[];
  /** After a 429: no call to X before this instant (epoch ms), X's x-rate-limit-reset. */
  notBeforeMs?: number;
}
