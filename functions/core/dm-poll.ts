import { readDmEventsPage, type DmSkipReason, type PageEvent } from './dm-events';
import { PermanentError, TransientError } from './errors';
import type { DmPollState } from './dm-poll-state';
import type { DmEventsSource, DmPollStateStore } from './ports';
import type { InboundMessage } from './x-events';
import { compareDecimalIds } from './decimal-ids';

/**
 * One run of the DM poller (polling mode): walks `GET /2/dm_events` from the newest event down to
 * what earlier runs queued, then queues the new DMs oldest first (per-person order) and only then
 * moves the cursor. Nothing is queued from a walk that stopped early (a 429, an error, the page
 * budget): its older part is still unread, and queueing the newer part first would break the order.
 * Instead the run pushes a resume point; the next run continues from it, deeper. The walk that
 * reaches what is queued queues its part and pops its resume point; the walk from the resume point
 * before it then reads down to where that part began (the boundary), and so on up to the top. Each
 * run reads at most its page budget and, once the bottom is reached, queues what it read.
 */

/**
 * Page sizes of a walk. X bills every DM event a lookup returns, new or already seen, and a poll
 * with nothing new still returns its first page: so a walk from the top starts small and grows
 * fourfold per page up to X's 100 (5, 20, 80, 100…). An idle poll reads 5 events; a few new DMs
 * still take one request (X allows 15 per 15 minutes); a backlog is read 100 at a time.
 */
const DM_POLL_PAGE_SIZES = { first: 5, max: 100 } as const;

export interface DmPollDeps {
  source: DmEventsSource;
  queue: { send(messages: InboundMessage[]): Promise<void> };
  state: DmPollStateStore;
  /** The company account id: its own DMs are skipped, it is every DM's recipient. */
  companyId: string;
  /** First run only: how far back DMs are queued (0: from now on; X keeps 30 days). */
  backfillMinutes: number;
  /** Pages one run may read (X allows 15 lookups per 15 minutes per user). */
  maxPages: number;
  pageSizes?: { first: number; max: number };
  clock: () => number;
}

export type DmPollResult = {
  pages: number;
  queued: InboundMessage[];
  skipped: { id: string; reason: DmSkipReason }[];
  malformed: { id?: string; reason: string }[];
} & (
  | { outcome: 'caught-up' }
  /** Stopped before the cursor: `cause` undefined when the page budget ran out. */
  | { outcome: 'interrupted'; cause?: Error; resumeToken?: string }
  /** Did not call X: a 429 said to wait until `notBeforeMs`. */
  | { outcome: 'rate-limited'; notBeforeMs: number }
);

const newer = (a: string | undefined, b: string | undefined) => (a === undefined ? b : b === undefined ? a : compareDecimalIds(a, b) >= 0 ? a : b);

export async function pollDmEvents(deps: DmPollDeps): Promise<DmPollResult> {
  const { source, queue, companyId } = deps;
  const now = deps.clock();
  const stored = await deps.state.load();
  // First run: history before now (minus the backfill window) is not queued.
  const state: DmPollState = stored ?? { floorMs: now - deps.backfillMinutes * 60_000 };
  const empty = { pages: 0, queued: [], skipped: [], malformed: [] };
  if (state.notBeforeMs !== undefined && now < state.notBeforeMs) return { ...empty, outcome: 'rate-limited', notBeforeMs: state.notBeforeMs };

  const sizes = deps.pageSizes ?? DM_POLL_PAGE_SIZES;
  const walked: PageEvent[] = [];
  const stack = state.resume ?? [];
  let token = stack.at(-1)?.token;
  let pages = 0;
  let reachedEnd = false;
  /** The newest event of the walk's first page: where the cursor moves once the walk reached its end. */
  let topId: string | undefined;
  let cause: Error | undefined;
  /** How many events of the page are new, and whether the page holds the end of what is new. */
  const newOf = (events: PageEvent[]): { count: number; end: boolean } => {
    for (let i = 0; i < events.length; i++) {
      const { id, createdAtMs } = events[i]!;
      if (id !== undefined && state.boundaryId !== undefined) {
        const c = compareDecimalIds(id, state.boundaryId);
        if (c === 0) return { count: i + 1, end: true };
        if (c < 0) return { count: i, end: true };
      }
      if (id !== undefined && state.cursor !== undefined && compareDecimalIds(id, state.cursor) <= 0) return { count: i, end: true };
      if (state.cursor === undefined && state.floorMs !== undefined && createdAtMs !== undefined && createdAtMs < state.floorMs) return { count: i, end: true };
    }
    return { count: events.length, end: false };
  };
  try {
    while (!reachedEnd && pages < deps.maxPages) {
      // A walk from a resume point is deep in a backlog: full pages from the start.
      const size = stack.length > 0 ? sizes.max : Math.min(sizes.max, sizes.first * 4 ** pages);
      const page = readDmEventsPage(await source.page(token, size), companyId, deps.clock());
      pages++;
      if (page.invalid) throw new PermanentError(`X answered the DM lookup with ${page.invalid}`);
      if (pages === 1) topId = page.events.find((e) => e.id !== undefined)?.id;
      const fresh = newOf(page.events);
      walked.push(...page.events.slice(0, fresh.count));
      // The page that reaches what is queued already, or the end of X's 30 days.
      reachedEnd = fresh.end || page.nextToken === undefined;
      token = page.nextToken;
    }
  } catch (err) {
    cause = err as Error;
  }

  const queued = walked.flatMap((e) => (e.kind === 'message' ? [e.message] : [])).reverse();
  const result = {
    pages,
    skipped: walked.flatMap((e) => (e.kind === 'skipped' ? [{ id: e.id, reason: e.reason }] : [])),
    malformed: walked.flatMap((e) => (e.kind === 'malformed' ? [{ id: e.id, reason: e.reason }] : [])),
  };

  if (!reachedEnd) {
    const next: DmPollState = { ...state, resume: [...stack] };
    delete next.notBeforeMs;
    if (pages > 0 && token !== undefined && token !== stack.at(-1)?.token) {
      const oldestId = [...walked].reverse().find((e) => e.id !== undefined)?.id;
      next.resume!.push({ token, ...(oldestId !== undefined ? { oldestId } : {}) });
    }
    if (cause instanceof TransientError && cause.status === 429) next.notBeforeMs = cause.retryAt ?? now + 60_000;
    // X refused a resume token itself (e.g. expired): the walk before it goes deeper again instead.
    if (cause instanceof PermanentError && cause.status === 400 && pages === 0) next.resume!.pop();
    if (next.resume!.length === 0) delete next.resume;
    await deps.state.save(next);
    // What this walk read is read again (and reported then) by the walk that reaches the cursor.
    return { pages, queued: [], skipped: [], malformed: [], outcome: 'interrupted', cause, resumeToken: next.resume?.at(-1)?.token };
  }

  // Queue first, cursor second: a crash in between re-queues the same DMs, which the queue's
  // de-duplication id (the DM event id) and the dispatcher's processed-event record absorb.
  if (queued.length > 0) await queue.send(queued);
  const cursor = newer(state.cursor, topId);
  // Everything older than the event the popped walk read last is queued now.
  const boundaryId = newer(state.boundaryId, stack.at(-1)?.oldestId);
  const next: DmPollState = cursor !== undefined ? { cursor } : { floorMs: state.floorMs };
  if (boundaryId !== undefined && (cursor === undefined || compareDecimalIds(boundaryId, cursor) > 0)) next.boundaryId = boundaryId;
  if (stack.length > 1) next.resume = stack.slice(0, -1);
  await deps.state.save(next);
  return { ...result, queued, outcome: 'caught-up' };
}
