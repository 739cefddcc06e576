import {
  closeByFourbiz,
  closeConversation,
  conversationForInbound,
  isIdle,
  openConversation,
  recordInboundDelivered,
  recordOutbound,
  type Conversation,
} from '../../functions/core/conversation';

const maria = { id: '2900000000000000042', handle: 'maria_souza', name: 'Maria Souza' };
const t0 = new Date('2026-11-25T10:00:00.000Z');
const minutes = (n: number) => new Date(t0.getTime() + n * 60_000);

function stored(c: Conversation, version = 3): Conversation {
  return { ...c, version };
}

describe('conversation state', () => {
  it('opens on a user’s first DM: open, nothing counted yet, a fresh id', () => {
    const t = conversationForInbound(undefined, maria, t0, 60);
    expect(t.opened).toBe(true);
    expect(t.closed).toBeUndefined();
    expect(t.conversation).toMatchObject({
      xUserId: maria.id,
      handle: 'maria_souza',
      status: 'OPEN',
      openedAt: t0.toISOString(),
      lastActivityAt: t0.toISOString(),
      messagesIn: 0,
      messagesOut: 0,
      version: 0,
    });
    expect(t.conversation.conversationId).toContain(maria.id);
  });

  it('keeps the same conversation while the user writes within the idle timeout', () => {
    const open = stored(openConversation(maria, t0));
    const t = conversationForInbound(open, maria, minutes(60), 60);
    expect(t).toEqual({ conversation: open, opened: false });
  });

  it('closes a conversation idle longer than the timeout and opens a new one with a new id in the same item', () => {
    const open = stored(recordInboundDelivered(openConversation(maria, t0), { eventId: 'e1', sentAt: t0, participant: maria }));
    const t = conversationForInbound(open, maria, minutes(61), 60);
    expect(t.opened).toBe(true);
    expect(t.closed).toMatchObject({ conversationId: open.conversationId, status: 'CLOSED', closeReason: 'idle', messagesIn: 1 });
    expect(t.conversation.conversationId).not.toBe(open.conversationId);
    expect(t.conversation).toMatchObject({ status: 'OPEN', messagesIn: 0, openedAt: minutes(61).toISOString(), version: 3 });
  });

  it('keeps a conversation with an open 4biz request however long it was idle: 4biz closes it (tickets mode)', () => {
    const open = stored(
      recordInboundDelivered(openConversation(maria, t0), { eventId: 'e1', sentAt: t0, participant: maria, requestNumber: '4711' }),
    );
    const t = conversationForInbound(open, maria, minutes(60 * 24), 60);
    expect(t).toEqual({ conversation: open, opened: false });
  });

  it('opens a new conversation after 4biz closed the previous one, however recent', () => {
    const closed = stored(closeByFourbiz(openConversation(maria, t0), minutes(1)));
    expect(closed).toMatchObject({ status: 'CLOSED', closeReason: 'fourbiz', closedAt: minutes(1).toISOString() });
    const t = conversationForInbound(closed, maria, minutes(2), 60);
    expect(t.opened).toBe(true);
    expect(t.closed).toBeUndefined();
    expect(t.conversation.conversationId).not.toBe(closed.conversationId);
  });

  it('gives the same id when the same opening DM is processed again (a retry lands in the same conversation)', () => {
    expect(openConversation(maria, t0).conversationId).toBe(openConversation(maria, t0).conversationId);
  });

  it('measures idleness from the last activity, inbound or outbound', () => {
    const c = recordOutbound(openConversation(maria, t0), minutes(50));
    expect(isIdle(c, minutes(100), 60)).toBe(false);
    expect(isIdle(c, minutes(111), 60)).toBe(true);
  });

  it('records a delivered inbound DM: count, last event, activity, request number, fresher names', () => {
    const c = recordInboundDelivered(openConversation({ id: maria.id }, t0), {
      eventId: 'e2',
      sentAt: minutes(5),
      participant: maria,
      requestNumber: '4711',
    });
    expect(c).toMatchObject({ messagesIn: 1, lastDeliveredEventId: 'e2', lastActivityAt: minutes(5).toISOString(), requestNumber: '4711', handle: 'maria_souza' });
    const again = recordInboundDelivered(c, { eventId: 'e3', sentAt: minutes(6), participant: { id: maria.id } });
    expect(again).toMatchObject({ messagesIn: 2, requestNumber: '4711', handle: 'maria_souza', lastDeliveredEventId: 'e3' });
  });

  it('never moves the last activity backwards for a DM delivered late', () => {
    const c = recordInboundDelivered(recordOutbound(openConversation(maria, t0), minutes(30)), { eventId: 'old', sentAt: minutes(10), participant: maria });
    expect(c.lastActivityAt).toBe(minutes(30).toISOString());
  });

  it('records an outbound reply (the poller, not the sender, records which occurrences are synced)', () => {
    const c = recordOutbound(openConversation(maria, t0), minutes(3));
    expect(c).toMatchObject({ messagesOut: 1, lastActivityAt: minutes(3).toISOString() });
    expect(c.lastSyncedOccurrenceId).toBeUndefined();
  });

  it('closing twice keeps the first closing', () => {
    const once = closeConversation(openConversation(maria, t0), minutes(1), 'idle');
    expect(closeConversation(once, minutes(9), 'fourbiz')).toBe(once);
  });
});
