import { accountActivitySchema, expandUrls, normaliseDelivery, singleEventPayload } from '../../functions/core/x-events';
import { fixtureBytes } from '../support/x-fixtures';

const delivery = (name: string) => normaliseDelivery(accountActivitySchema.parse(JSON.parse(fixtureBytes(name).toString())));

describe('normalising X deliveries into inbound messages', () => {
  it('turns a DM into an inbound message with sender, expanded links and the recipient account', () => {
    const { messages, skipped } = delivery('dm-received.json');
    expect(skipped).toEqual([]);
    expect(messages).toHaveLength(1);
    const [m] = messages;
    expect(m).toMatchObject({
      eventId: '1861000000000000101',
      createdTimestamp: '1732500000123',
      createdAt: '2024-11-25T02:00:00.123Z',
      forUserId: '1400000000000000001',
      recipientId: '1400000000000000001',
      sender: { id: '2900000000000000042', handle: 'maria_souza', name: 'Maria Souza' },
      text: 'Olá! Minha impressora parou de funcionar https://example.com/foto-erro',
      attachments: [],
    });
    expect(m.quickReply).toBeUndefined();
    expect(Object.keys(m.raw.users).sort()).toEqual(['1400000000000000001', '2900000000000000042']);
  });

  it('drops our own echoed DM', () => {
    const { messages, skipped } = delivery('dm-echo-own-message.json');
    expect(messages).toEqual([]);
    expect(skipped).toEqual([{ eventId: '1861000000000000102', reason: 'echo' }]);
  });

  it('carries the media attachment', () => {
    const [m] = delivery('dm-with-media.json').messages;
    expect(m.attachments).toEqual([
      {
        type: 'media',
        mediaId: '1861000000000000555',
        mediaType: 'photo',
        url: 'https://ton.twitter.com/1.1/ton/data/dm/1861000000000000103/1861000000000000555/abcd.jpg',
      },
    ]);
    expect(m.text).toBe('segue o print https://twitter.com/messages/media/1861000000000000103');
  });

  it('carries the quick-reply choice', () => {
    const [m] = delivery('dm-quick-reply.json').messages;
    expect(m.quickReply).toEqual({ type: 'options', metadata: 'menu:agent' });
    expect(m.text).toBe('Falar com atendente');
  });

  it('keeps the per-sender order of a batch', () => {
    const { messages } = delivery('batch-two-users.json');
    expect(messages.map((m) => [m.sender.id, m.text])).toEqual([
      ['2900000000000000042', 'primeira'],
      ['3100000000000000077', 'oi, preciso de ajuda'],
      ['2900000000000000042', 'segunda'],
    ]);
  });

  it('acknowledges typing, read and tweet events without producing messages', () => {
    expect(delivery('typing-and-read.json')).toEqual({
      messages: [],
      skipped: [],
      ignoredKinds: ['direct_message_indicate_typing_events', 'direct_message_mark_read_events'],
    });
    expect(delivery('tweet-create-ignored.json')).toEqual({ messages: [], skipped: [], ignoredKinds: ['tweet_create_events'] });
  });

  it('skips DM events that are not message_create', () => {
    const body = accountActivitySchema.parse({
      for_user_id: '1',
      direct_message_events: [{ type: 'message_delete', id: '9', created_timestamp: '1' }],
    });
    expect(normaliseDelivery(body).skipped).toEqual([{ eventId: '9', reason: 'not-message-create' }]);
  });

  it('rebuilds a one-event Account Activity payload for relay', () => {
    const [, second] = delivery('batch-two-users.json').messages;
    const payload = singleEventPayload(second);
    expect(payload.for_user_id).toBe('1400000000000000001');
    expect(payload.direct_message_events).toHaveLength(1);
    expect(payload.direct_message_events?.[0].id).toBe('1861000000000000302');
    expect(Object.keys(payload.users ?? {})).toEqual(['3100000000000000077']);
    expect(accountActivitySchema.safeParse(JSON.parse(JSON.stringify(payload))).success).toBe(true);
  });

  it('expands every occurrence of each t.co link', () => {
    expect(expandUrls('a https://t.co/x b https://t.co/x', [{ url: 'https://t.co/x', expanded_url: 'https://e.com' }])).toBe(
      'a https://e.com b https://e.com',
    );
  });
});
