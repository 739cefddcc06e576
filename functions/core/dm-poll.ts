import { compareEventIds, readDmEventsPage, type DmSkipReason, type PageEvent } from './dm-events';
import { PermanentError, TransientError } from './errors';
import type { InboundMessage } from './x-events';

/**
 * One run of the DM poller (polling mode): walks `GET /2/dm_events` from the newest event down to
 * the newest one a previous run saw (the cursor), then queues the new DMs oldest first (per-person
 * order) and only then moves the cursor. Nothing is queued from a walk that did not reach the
 * cursor: a later run would otherwise queue older DMs after newer ones. A walk that stops early (a
 * 429, an error, the page budget) leaves a resume token instead, so the next run continues further
 * down; once the bottom is reached that older part is queued and the cursor moves up to it, and the
 * runs after it walk from the top down to the new cursor. Progress and order are both kept.
 */

export interface DmPollState {
  /** Newest DM event id already queued or deliberately passed over (first run, history). */
  cursor?: string;
  /** Until a cursor exists: DMs created before this instant (epoch ms) are history, not queued. */
  floorMs?: number;
  /** Where an interrupted walk continues (an older page than the ones it read). */
  resumeToken?: string;
  /** After a 429: no call to X before this instant (epoch ms), X's x-rate-limit-reset. */
  notBeforeMs?: number;
}

/** The poller's state, kept in the conversation table (adapters/dm-poll-state.ts). */
export interface DmPollStateStore {
  load(): Promise<DmPollState | undefined>;
  save(state: DmPollState): Promise<void>;
}

/** One page of the DM lookup as X answered it (JSON); errors are Transient/Permanent as X's status says. */
export interface DmEventsSource {
  page(paginationToken?: string): Promise<unknown>;
}

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

const newer = (a: string | undefined, b: string | undefined) => (a === undefined ? b : b === undefined ? a : compareEventIds(a, b) >= 0 ? a : b);

export async function pollDmEvents(deps: DmPollDeps): Promise<DmPollResult> {
  const { source, queue, companyId } = deps;
  const now = deps.clock();
  const stored = await deps.state.load();
  // First run: history before now (minus the backfill window) is not queued.
  const state: DmPollState = stored ?? { floorMs: now - deps.backfillMinutes * 60_000 };
  const empty = { pages: 0, queued: [], skipped: [], malformed: [] };
  if (state.notBeforeMs !== undefined && now < state.notBeforeMs) return { ...empty, outcome: 'rate-limited', notBeforeMs: state.notBeforeMs };

  const walked: PageEvent[] = [];
  let token = state.resumeToken;
  let pages = 0;
  let reachedEnd = false;
  /** The newest event of the walk's first page: where the cursor moves once the walk reached its end. */
  let topId: string | undefined;
  let cause: Error | undefined;
  const isOld = (e: PageEvent) =>
    state.cursor !== undefined
      ? e.id !== undefined && compareEventIds(e.id, state.cursor) <= 0
      : state.floorMs !== undefined && e.createdAtMs !== undefined && e.createdAtMs < state.floorMs;
  try {
    while (!reachedEnd && pages < deps.maxPages) {
      const page = readDmEventsPage(await source.page(token), companyId);
      pages++;
      if (page.invalid) throw new PermanentError(`X answered the DM lookup with ${page.invalid}`);
      if (pages === 1) topId = page.events.find((e) => e.id !== undefined)?.id;
      const fresh = page.events.findIndex(isOld);
      walked.push(...(fresh === -1 ? page.events : page.events.slice(0, fresh)));
      // The cursor's page, or the end of X's 30 days.
      reachedEnd = fresh !== -1 || page.nextToken === undefined;
      token = page.nextToken;
    }
  } catch (err) {
    cause = err as Error;
  }

  const queued = walked.flatMap((e) => (e.kind === 'message' ? [e.message] : [])).reverse();
  const result = {
    pages,
    queued: reachedEnd ? queued : [],
    skipped: walked.flatMap((e) => (e.kind === 'skipped' ? [{ id: e.id, reason: e.reason }] : [])),
    malformed: walked.flatMap((e) => (e.kind === 'malformed' ? [{ id: e.id, reason: e.reason }] : [])),
  };

  if (!reachedEnd) {
    const next: DmPollState = { ...state, resumeToken: token };
    if (cause instanceof TransientError && cause.status === 429) next.notBeforeMs = cause.retryAt ?? now + 60_000;
    else delete next.notBeforeMs;
    // X refused the resume token itself (e.g. expired): the next run starts again from the top.
    if (cause instanceof PermanentError && cause.status === 400 && pages === 0) delete next.resumeToken;
    await deps.state.save(next);
    return { ...result, queued: [], outcome: 'interrupted', cause, resumeToken: next.resumeToken };
  }

  // Queue first, cursor second: a crash in between re-queues the same DMs, which the queue's
  // de-duplication id (the DM event id) and the dispatcher's processed-event record absorb.
  if (queued.length > 0) await queue.send(queued);
  const cursor = newer(state.cursor, topId);
  await deps.state.save(cursor !== undefined ? { cursor } : { floorMs: state.floorMs });
  return { ...result, outcome: 'caught-up' };
}
