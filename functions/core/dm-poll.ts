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
 *
 * X's lookup can show a DM late, below DMs already read (an older id). A walk that ends at the
 * cursor therefore reads on past it through the overlap and queues the events
 * there that no earlier run handled (DM_POLL_OVERLAP_MS); the ones it did are known by id (`recent`
 * in the state), and the queue's de-duplication id and the dispatcher's processed-event records
 * absorb any repeat.
 */

/**
 * Page sizes of a walk. X bills every DM event a lookup returns, new or already seen, and a poll
 * with nothing new still returns its first page: so a walk from the top starts small and grows
 * fourfold per page up to X's 100 (5, 20, 80, 100…). An idle poll reads 5 events; a few new DMs
 * still take one request (X allows 15 per 15 minutes); a backlog is read 100 at a time.
 */
const DM_POLL_PAGE_SIZES = { first: 5, max: 100 } as const;

/**
 * How far each walk reads on past the cursor (the overlap): the events created from 10 minutes
 * before the last complete read, and at most as many as fit in an idle poll's first page beside
 * the few it reads for new DMs (100 - 5 = 95 events). So a DM X's lookup shows within 10 minutes of
 * being sent is still queued, an idle poll stays one request (X allows 15 per 15 minutes), and,
 * since X bills a repeated read of an event once per UTC day, the re-reads cost nothing more that
 * day (after midnight UTC the last 10 minutes' events are billed once again).
 */
export const DM_POLL_OVERLAP_MS = 10 * 60_000;

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
  /** Ids of the events above that X's lookup showed late (below the cursor, in the overlap). */
  late: string[];
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
  const empty = { pages: 0, queued: [], skipped: [], malformed: [], late: [] };
  if (state.notBeforeMs !== undefined && now < state.notBeforeMs) return { ...empty, outcome: 'rate-limited', notBeforeMs: state.notBeforeMs };

  const sizes = deps.pageSizes ?? DM_POLL_PAGE_SIZES;
  const stack = state.resume ?? [];
  const walk = overlapWalk(state, sizes.max - sizes.first);
  let token = stack.at(-1)?.token;
  let pages = 0;
  let nextToken: string | undefined;
  /** The newest event of the walk's first page: where the cursor moves once the walk reached its end. */
  let topId: string | undefined;
  let cause: Error | undefined;
  // An idle poll's first page holds the overlap too: no extra request for it.
  const first = stack.length > 0 ? sizes.max : Math.min(sizes.max, sizes.first + (walk.overlapOn ? (state.recent?.length ?? 0) : 0));
  try {
    do {
      // A walk from a resume point is deep in a backlog: full pages from the start.
      const size = Math.min(sizes.max, first * 4 ** pages);
      const page = readDmEventsPage(await source.page(token, size), companyId, deps.clock());
      pages++;
      if (page.invalid) throw new PermanentError(`X answered the DM lookup with ${page.invalid}`);
      if (pages === 1) topId = page.events.find((e) => e.id !== undefined)?.id;
      walk.read(page.events);
      nextToken = page.nextToken;
      token = nextToken;
    } while (walk.phase !== 'done' && nextToken !== undefined && pages < deps.maxPages);
  } catch (err) {
    cause = err as Error;
  }
  const { walked, late } = walk;

  // The walk reached what is queued already (an overlap cut short by an error or the budget is re-read next run), or the end of X's 30 days.
  const reachedEnd = walk.phase !== 'new' || (pages > 0 && cause === undefined && nextToken === undefined);
  if (!reachedEnd) {
    const next: DmPollState = { ...state, resume: [...stack] };
    delete next.notBeforeMs;
    if (pages > 0 && token !== undefined && token !== stack.at(-1)?.token) {
      const oldestId = [...walked].reverse().find((e) => e.id !== undefined)?.id;
      next.resume!.push({ token, ...(oldestId !== undefined ? { oldestId } : {}) });
    }
    if (isRateLimit(cause)) next.notBeforeMs = cause.retryAt ?? now + 60_000;
    // X refused a resume token itself (e.g. expired): the walk before it goes deeper again instead.
    if (cause instanceof PermanentError && cause.status === 400 && pages === 0) next.resume!.pop();
    if (next.resume!.length === 0) delete next.resume;
    await deps.state.save(next);
    // What this walk read is read again (and reported then) by the walk that reaches the cursor.
    return { ...empty, pages, outcome: 'interrupted', cause, resumeToken: next.resume?.at(-1)?.token };
  }

  const queued = walked.flatMap((e) => (e.kind === 'message' ? [e.message] : [])).reverse();
  // Queue first, cursor second: a crash in between re-queues the same DMs, which the queue's
  // de-duplication id (the DM event id) and the dispatcher's processed-event record absorb.
  if (queued.length > 0) await queue.send(queued);
  const cursor = newer(state.cursor, topId);
  // Everything older than the event the popped walk read last is queued now.
  const boundaryId = newer(state.boundaryId, stack.at(-1)?.oldestId);
  const next: DmPollState = cursor !== undefined ? { cursor } : { floorMs: state.floorMs };
  if (boundaryId !== undefined && (cursor === undefined || compareDecimalIds(boundaryId, cursor) > 0)) next.boundaryId = boundaryId;
  if (stack.length > 1) next.resume = stack.slice(0, -1);
  if (cursor !== undefined) Object.assign(next, walk.nextOverlap(now));
  if (isRateLimit(cause)) next.notBeforeMs = cause.retryAt ?? now + 60_000;
  await deps.state.save(next);
  return {
    pages,
    queued,
    skipped: walked.flatMap((e) => (e.kind === 'skipped' ? [{ id: e.id, reason: e.reason }] : [])),
    malformed: walked.flatMap((e) => (e.kind === 'malformed' ? [{ id: e.id, reason: e.reason }] : [])),
    late,
    outcome: 'caught-up',
  };
}

const isRateLimit = (err: Error | undefined): err is TransientError => err instanceof TransientError && err.status === 429;

/**
 * One walk's reading of its pages, newest first: the new events (above the cursor, the boundary or
 * the first run's floor), then, for a walk that ends at the cursor, the overlap below it, of which
 * only the events no earlier run handled are taken (late). `phase` says where the walk is.
 */
function overlapWalk(state: DmPollState, maxOverlap: number) {
  const overlapOn = state.cursor !== undefined && state.boundaryId === undefined && state.overlapFromMs !== undefined;
  const known = new Set(state.recent?.map((r) => r.id));
  const walked: PageEvent[] = [];
  const late: string[] = [];
  /** Overlap events read (handled earlier or late). */
  const reread: PageEvent[] = [];
  let phase: 'new' | 'overlap' | 'done' = 'new';

  /** Where an event lies for the new part of the walk: new, the boundary itself (taken, last), or past the end. */
  const position = ({ id, createdAtMs }: PageEvent): 'new' | 'last' | 'end' => {
    if (id !== undefined && state.boundaryId !== undefined) {
      const c = compareDecimalIds(id, state.boundaryId);
      if (c === 0) return 'last';
      if (c < 0) return 'end';
    }
    if (id !== undefined && state.cursor !== undefined && compareDecimalIds(id, state.cursor) <= 0) return 'end';
    if (state.cursor === undefined && state.floorMs !== undefined && createdAtMs !== undefined && createdAtMs < state.floorMs) return 'end';
    return 'new';
  };

  function read(events: PageEvent[]): void {
    for (const e of events) {
      if (phase === 'new') {
        const at = position(e);
        if (at !== 'end') walked.push(e);
        if (at === 'new') continue;
        phase = at === 'end' && overlapOn ? 'overlap' : 'done';
        if (phase === 'done') return;
      }
      if (phase !== 'overlap') return;
      if (reread.length >= maxOverlap || (e.createdAtMs !== undefined && e.createdAtMs < state.overlapFromMs!)) {
        phase = 'done';
        return;
      }
      reread.push(e);
      // Without an id an event cannot be told apart from one handled before: left alone.
      if (e.id !== undefined && !known.has(e.id)) {
        walked.push(e);
        late.push(e.id);
      }
    }
  }

  /**
   * The overlap the next run reads: from `now` minus DM_POLL_OVERLAP_MS, never back before where it
   * was (the first run's floor: older events are history, never queued), and what is handled in it.
   */
  function nextOverlap(now: number): Pick<DmPollState, 'overlapFromMs' | 'recent'> {
    const overlapFromMs = Math.max(now - DM_POLL_OVERLAP_MS, state.overlapFromMs ?? state.floorMs ?? -Infinity);
    const byId = new Map((state.recent ?? []).map((r) => [r.id, r.atMs]));
    for (const e of [...walked, ...reread]) if (e.id !== undefined) byId.set(e.id, e.createdAtMs ?? now);
    const recent = [...byId]
      .filter(([, atMs]) => atMs >= overlapFromMs)
      .sort(([a], [b]) => compareDecimalIds(b, a))
      .slice(0, maxOverlap)
      .map(([id, atMs]) => ({ id, atMs }));
    return recent.length > 0 ? { overlapFromMs, recent } : { overlapFromMs };
  }

  return {
    overlapOn,
    walked,
    late,
    read,
    nextOverlap,
    get phase() {
      return phase;
    },
  };
}
