import type { Conversation } from '../../functions/core/conversation';
import { DEFAULT_POLL_POLICY, duePolls, idlenessOf, keepOpen } from '../../functions/core/poll-schedule';

const NOW = Date.parse('2026-12-02T12:00:00.000Z');
const MIN = 60_000;

const conversation = (id: string, quietMinutes: number): Conversation => ({
  xUserId: id,
  conversationId: `${id}-1`,
  status: 'OPEN',
  openedAt: '2026-11-01T00:00:00.000Z',
  lastActivityAt: new Date(NOW - quietMinutes * MIN).toISOString(),
  messagesIn: 1,
  messagesOut: 0,
  requestNumber: `R${id}`,
  version: 1,
});

describe('poll schedule', () => {
  it('tells active (a DM within the hour), idle (within a day) and dormant conversations apart', () => {
    expect(idlenessOf(conversation('a', 0), NOW)).toBe('active');
    expect(idlenessOf(conversation('a', 60), NOW)).toBe('active');
    expect(idlenessOf(conversation('a', 61), NOW)).toBe('idle');
    expect(idlenessOf(conversation('a', 24 * 60), NOW)).toBe('idle');
    expect(idlenessOf(conversation('a', 24 * 60 + 1), NOW)).toBe('dormant');
    // A date in the future (clock skew) is activity, not idleness.
    expect(idlenessOf(conversation('a', -5), NOW)).toBe('active');
  });

  it('puts active conversations first, then the rest, each by the longest since its last poll; never-polled ones first of their kind', () => {
    const open = [conversation('idle-due', 120), conversation('active-recent', 5), conversation('dormant', 3000), conversation('active-stale', 30), conversation('active-new', 1), conversation('idle-new', 200)];
    const marks = { 'idle-due-1': NOW - 12 * MIN, 'active-recent-1': NOW - 1 * MIN, 'dormant-1': NOW - 90 * MIN, 'active-stale-1': NOW - 3 * MIN };
    expect(duePolls(open, marks, NOW).map((c) => c.xUserId)).toEqual(['active-new', 'active-stale', 'active-recent', 'idle-new', 'dormant', 'idle-due']);
  });

  it('puts an idle or dormant conversation left waiting twice its interval before the active ones, so none waits forever', () => {
    const open = [conversation('active', 1), conversation('idle-late', 120), conversation('dormant-late', 3000), conversation('dormant', 3000)];
    const marks = { 'active-1': NOW - 5 * MIN, 'idle-late-1': NOW - 20 * MIN, 'dormant-late-1': NOW - 121 * MIN, 'dormant-1': NOW - 119 * MIN };
    expect(duePolls(open, marks, NOW).map((c) => c.xUserId)).toEqual(['dormant-late', 'idle-late', 'active', 'dormant']);
  });

  it('polls active conversations every run, idle ones every 10 minutes, dormant ones every hour', () => {
    const open = [conversation('active', 10), conversation('idle', 180), conversation('dormant', 3 * 24 * 60)];
    const dueAfter = (minutes: number) => duePolls(open, { 'active-1': NOW - minutes * MIN, 'idle-1': NOW - minutes * MIN, 'dormant-1': NOW - minutes * MIN }, NOW).map((c) => c.xUserId).sort();
    expect(dueAfter(1)).toEqual(['active']);
    expect(dueAfter(9)).toEqual(['active']);
    expect(dueAfter(10)).toEqual(['active', 'idle']);
    expect(dueAfter(59)).toEqual(['active', 'idle']);
    expect(dueAfter(60)).toEqual(['active', 'dormant', 'idle']);
    expect(DEFAULT_POLL_POLICY).toMatchObject({ activeWithinMs: 60 * MIN, idleEveryMs: 10 * MIN, dormantEveryMs: 60 * MIN });
  });

  it('keeps the marks of open conversations only', () => {
    expect(keepOpen({ 'a-1': 1, 'gone-1': 2, 'b-1': 0 }, [conversation('a', 0), conversation('b', 0), conversation('c', 0)])).toEqual({ 'a-1': 1, 'b-1': 0 });
  });
});
