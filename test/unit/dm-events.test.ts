import { readDmEventsPage } from '../../functions/core/dm-events';
import { singleEventPayload } from '../../functions/core/x-events';
import { fixtureBytes } from '../support/x-fixtures';

const company = '1400000000000000001';
const page = () => JSON.parse(fixtureBytes('dm-events-page.json').toString('utf8'));

describe('GET /2/dm_events page → inbound messages', () => {
  it('turns each DM of a person into an inbound message and skips the company\'s own DM and the join, in page order', () => {
    const out = readDmEventsPage(page(), company);
    expect(out.nextToken).toBe('18LAA581J5II7LA00C00ZZZZ');
    expect(out.events.map((e) => [e.id, e.kind, e.kind === 'skipped' ? e.reason : undefined])).toEqual([
      ['1861000000000000503', 'message', undefined],
      ['1861000000000000502', 'skipped', 'own'],
      ['1861000000000000501', 'message', undefined],
      ['1861000000000000500', 'skipped', 'not-message-create'],
    ]);
  });

  it('makes the inbound message the webhook makes: t.co links expanded, sender from includes.users, media from includes.media', () => {
    const [first, , third] = readDmEventsPage(page(), company).events;
    if (first?.kind !== 'message' || third?.kind !== 'message') throw new Error('expected messages');
    expect(first.message).toMatchObject({
      eventId: '1861000000000000503',
      createdTimestamp: String(Date.parse('2024-11-25T02:10:05.000Z')),
      createdAt: '2024-11-25T02:10:05.000Z',
      forUserId: company,
      recipientId: company,
      sender: { id: '2900000000000000099', handle: 'ana_lima', name: 'Ana Lima' },
      text: 'Alguém pode me ajudar? https://example.com/pedido-555',
      attachments: [],
    });
    expect(third.message.attachments).toEqual([
      {
        type: 'media',
        mediaId: '1861000000000000777',
        mediaType: 'photo',
        url: 'https://ton.twitter.com/1.1/ton/data/dm/1861000000000000501/1861000000000000777/pedido.jpg',
      },
    ]);
  });

  it('gives relay mode the Account Activity v1.1 payload 4biz knows: for_user_id, message_create to the company, ms timestamp, v1.1 users', () => {
    const [first, , third] = readDmEventsPage(page(), company).events;
    if (first?.kind !== 'message' || third?.kind !== 'message') throw new Error('expected messages');
    const payload = JSON.parse(JSON.stringify(singleEventPayload(first.message)));
    expect(payload).toEqual({
      for_user_id: company,
      direct_message_events: [
        {
          type: 'message_create',
          id: '1861000000000000503',
          created_timestamp: '1732500605000',
          message_create: {
            target: { recipient_id: company },
            sender_id: '2900000000000000099',
            message_data: {
              text: 'Alguém pode me ajudar? https://t.co/pol555',
              entities: {
                hashtags: [],
                symbols: [],
                user_mentions: [],
                urls: [{ url: 'https://t.co/pol555', expanded_url: 'https://example.com/pedido-555', display_url: 'example.com/pedido-555', indices: [23, 42] }],
              },
            },
          },
        },
      ],
      users: {
        '2900000000000000099': { id: '2900000000000000099', id_str: '2900000000000000099', name: 'Ana Lima', screen_name: 'ana_lima', protected: false, verified: false },
        [company]: { id: company, id_str: company, name: 'Empresa Suporte', screen_name: 'empresa_suporte', protected: false, verified: false },
      },
    });
    const media = singleEventPayload(third.message).direct_message_events![0]!.message_create!.message_data.attachment;
    expect(media).toEqual({
      type: 'media',
      media: {
        id_str: '1861000000000000777',
        type: 'photo',
        media_url_https: 'https://ton.twitter.com/1.1/ton/data/dm/1861000000000000501/1861000000000000777/pedido.jpg',
        media_url: 'https://ton.twitter.com/1.1/ton/data/dm/1861000000000000501/1861000000000000777/pedido.jpg',
      },
    });
  });

  it('describes a sender X left out of includes with the least v1.1 user, never drops the DM', () => {
    const p = page();
    p.includes.users = [];
    const [first] = readDmEventsPage(p, company).events;
    if (first?.kind !== 'message') throw new Error('expected a message');
    expect(first.message.sender).toEqual({ id: '2900000000000000099' });
    expect(singleEventPayload(first.message).users!['2900000000000000099']).toEqual({ id: '2900000000000000099', id_str: '2900000000000000099', protected: false, verified: false });
  });

  it('reports a malformed event (id not digits, sender missing, bad date) and keeps the rest of the page', () => {
    const p = page();
    p.data[0].id = '../../etc';
    delete p.data[2].sender_id;
    p.data.push({ ...p.data[1], id: '1861000000000000400', created_at: 'yesterday' });
    const events = readDmEventsPage(p, company).events;
    expect(events.map((e) => e.kind)).toEqual(['malformed', 'skipped', 'malformed', 'skipped', 'malformed']);
    expect(events[0]).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('decimal digits') });
    expect(events[2]).toMatchObject({ kind: 'malformed', id: '1861000000000000501', reason: expect.stringContaining('sender_id') });
  });

  it('skips a DM of a group conversation (4biz answers one person) and one between other accounts', () => {
    const p = page();
    p.data[0].dm_conversation_id = '1861000000000009999';
    p.data[2].dm_conversation_id = '2900000000000000099-2900000000000000111';
    expect(readDmEventsPage(p, company).events.filter((e) => e.kind === 'skipped').map((e) => e.kind === 'skipped' && e.reason)).toEqual([
      'group',
      'own',
      'group',
      'not-message-create',
    ]);
  });

  it('says so when the answer is not a page at all (instead of reading it as "no more DMs")', () => {
    expect(readDmEventsPage({ data: 'nope' }, company).invalid).toMatch(/not a DM events page/);
    expect(readDmEventsPage([], company).invalid).toMatch(/not a DM events page/);
    expect(readDmEventsPage({ meta: { result_count: 0 } }, company)).toEqual({ events: [], nextToken: undefined });
  });
});
