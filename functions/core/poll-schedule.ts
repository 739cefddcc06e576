import type { Conversation } from './conversation';

/**
 * Which open conversations a poll of 4biz looks at, and in which order (tickets mode). Pure.
 *
 * 4biz has no call that lists what changed, and its documented request answer (getById: status,
 * SLA, current task) carries no last-change date or occurrence count: whether an agent wrote
 * cannot be told without listing the occurrences, so a poll of a request costs its two calls.
 * What is saved is polls: a conversation nobody has written in for a while is polled less often
 * (the schedule by idleness below), and a run that runs out of time leaves the rest to the next.
 */

/** When the poller last polled each conversation (epoch ms), by conversation id. */
export type PollMarks = Record<string, number>;

export interface PollPolicy {
  /** A conversation with a DM in or out this recent is active: due on every run, and first. */
  activeWithinMs: number;
  /** Not active, but a DM within `dormantAfterMs`: listed at most this often. */
  idleEveryMs: number;
  /** No DM for this long: dormant, listed at most every `dormantEveryMs`. */
  dormantAfterMs: number;
  dormantEveryMs: number;
}

const MINUTE = 60_000;

export const DEFAULT_POLL_POLICY: PollPolicy = {
  activeWithinMs: 60 * MINUTE,
  idleEveryMs: 10 * MINUTE,
  dormantAfterMs: 24 * 60 * MINUTE,
  dormantEveryMs: 60 * MINUTE,
};

export type Idleness = 'active' | 'idle' | 'dormant';

export function idlenessOf(c: Conversation, now: number, policy: PollPolicy = DEFAULT_POLL_POLICY): Idleness {
  const quiet = now - Date.parse(c.lastActivityAt);
  if (!(quiet > policy.activeWithinMs)) return 'active';
  return quiet <= policy.dormantAfterMs ? 'idle' : 'dormant';
}

/** How often a conversation of this kind is polled (0: every run). */
export const everyMs = (idleness: Idleness, policy: PollPolicy = DEFAULT_POLL_POLICY): number =>
  idleness === 'active' ? 0 : idleness === 'idle' ? policy.idleEveryMs : policy.dormantEveryMs;

/**
 * The conversations due now, in the order to poll them: active ones first, then the others;
 * within each, the one polled longest ago first (never polled: first of the others). A run that
 * stops at its time budget leaves the rest due, so the next run starts with them. So that
 * nothing waits forever when active conversations alone fill every run, an idle or dormant one
 * left waiting twice its interval (20 minutes, 2 hours) goes before the active ones.
 */
export function duePolls<C extends Conversation>(open: C[], marks: PollMarks, now: number, policy: PollPolicy = DEFAULT_POLL_POLICY): C[] {
  const tierOf = (idleness: Idleness, last: number | undefined) => {
    if (idleness === 'active') return 1;
    return last !== undefined && now - last >= 2 * everyMs(idleness, policy) ? 0 : 2;
  };
  return open
    .map((c) => ({ c, idleness: idlenessOf(c, now, policy), last: marks[c.conversationId] }))
    .filter(({ idleness, last }) => last === undefined || now - last >= everyMs(idleness, policy))
    .map((d) => ({ ...d, tier: tierOf(d.idleness, d.last) }))
    .sort((a, b) => a.tier - b.tier || (a.last ?? 0) - (b.last ?? 0))
    .map(({ c }) => c);
}

/** The marks of the conversations still open: a closed one's mark is dropped (keeps the record small). */
export function keepOpen(marks: PollMarks, open: Conversation[]): PollMarks {
  const kept: PollMarks = {};
  for (const c of open) if (marks[c.conversationId] !== undefined) kept[c.conversationId] = marks[c.conversationId];
  return kept;
}
