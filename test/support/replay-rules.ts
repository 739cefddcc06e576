import type { ReplayWindow } from '../../functions/core/x-webhook-api';

const MIN = 60_000;

/** Epoch ms of an X replay date (`yyyymmddhhmm`, UTC). */
export const replayDateMs = (d: string) => Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(8, 10), +d.slice(10, 12));

/** X's documented rules for a replay window asked at `now` (core/x-webhook-api.ts REPLAY_RULES), written out independently. */
export function expectInsideXRules(w: ReplayWindow, now: number) {
  const from = replayDateMs(w.fromDate);
  const to = replayDateMs(w.toDate);
  expect(from).toBeGreaterThanOrEqual(now - 24 * 3600_000);
  expect(from).toBeLessThanOrEqual(now - 31 * MIN);
  expect(to).toBeLessThanOrEqual(now - 10 * MIN);
  expect(to).toBeGreaterThan(from);
  expect(to - from).toBeLessThanOrEqual(2 * 3600_000);
}
