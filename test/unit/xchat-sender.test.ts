import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { TwitterApi } from 'twitter-api-v2';
import { xchatReplier, type XChatSetup } from '../../functions/adapters/xchat-setup';
import type { OutboxEntry } from '../../functions/adapters/xchat-keys';
import type { Conversation } from '../../functions/core/conversation';
import { TransientError } from '../../functions/core/errors';
import { openChatMessage } from '../../functions/core/xchat';
import { createSenderHandler } from '../../functions/sender/handler';
import { frameSentMessage, signingKeyEntry } from '../../simulators/x/chat-client';
import { memoryStore, recordingQueueControl } from '../support/memory-store';
import { testObservability } from '../support/observability';
import { fixtureAccountId, lambdaContext } from '../support/x-fixtures';
import { PERSON_ID, xchatWorld } from '../support/xchat';

interface Posted {
  path: string;
  body: { message_id: string; encoded_message_create_event: string; encoded_message_event_signature: string };
}

/** The sender with XChat, against a fake X that records the chat posts (and can fail the first ones). */
async function setup(options: { xchatConversation: boolean; failFirst?: number }) {
  const w = await xchatWorld();
  const conv = w.conversation();
  // The person wrote in XChat: the bridge holds the conversation key.
  const first = conv.queued('Olá');
  await openChatMessage(first, w.deps);
  const conversation: Conversation = {
    xUserId: PERSON_ID, conversationId: `${PERSON_ID}-1`, status: 'OPEN', openedAt: '2026-01-01T00:00:00.000Z', lastActivityAt: '2026-01-01T00:00:00.000Z',
    messagesIn: 1, messagesOut: 0, requestNumber: '4000', version: 1, lastDeliveredEventId: first.sent.sequenceId,
    ...(options.xchatConversation ? { xchatConversationId: conv.conversationId } : {}),
  };
  const store = memoryStore([conversation]);
  const posted: Posted[] = [];
  let failures = options.failFirst ?? 0;
  const outbox = new Map<string, OutboxEntry>();
  const xchatSetup: XChatSetup = {
    ...w.deps,
    crypto: w.crypto as XChatSetup['crypto'],
    outbox: { get: async (id) => outbox.get(id), put: async (id, r) => void outbox.set(id, r) },
    x: {
      call: async (request) =>
        request({
          v2: {
            post: async (path: string, body: Posted['body']) => {
              posted.push({ path, body });
              // X stored it, but the answer was lost.
              if (failures-- > 0) throw new TransientError('X API unreachable: socket hang up');
              return { data: { encoded_message_event: 'stored' } };
            },
          },
        } as unknown as TwitterApi),
    } as XChatSetup['x'],
  };
  const dms: string[] = [];
  const queue = recordingQueueControl();
  const handler = createSenderHandler({
    ...testObservability(),
    store,
    x: { sendDm: async (_id, text) => (dms.push(text), {}), findSentDm: async () => undefined },
    xchat: xchatReplier(async () => xchatSetup),
    queue,
    backoff: { baseSeconds: 1, maxSeconds: 1 },
  });
  const reply = { xUserId: PERSON_ID, recipientId: PERSON_ID, text: 'Abrimos o chamado 4000', sourceId: '90001', kind: 'occurrence', requestNumber: '4000', conversationId: conversation.conversationId };
  const record = { messageId: 'm1', receiptHandle: 'rh', body: JSON.stringify(reply), attributes: { ApproximateReceiveCount: '1', MessageGroupId: PERSON_ID }, messageAttributes: {} } as unknown as SQSRecord;
  const run = () => handler({ Records: [record] } as SQSEvent, lambdaContext);
  /** The person's client reads what X stored for a post: decrypted and verified against the company's public keys. */
  const read = (p: Posted) =>
    w.person.read(
      frameSentMessage({ senderId: fixtureAccountId, conversationId: conv.conversationId, messageId: p.body.message_id, encodedMessageCreateEvent: p.body.encoded_message_create_event, encodedMessageEventSignature: p.body.encoded_message_event_signature }),
      [signingKeyEntry(fixtureAccountId, w.companyClient.publicKey), signingKeyEntry(PERSON_ID, w.person.publicKey)],
    );
  return { run, posted, dms, read, conv, queue };
}

describe('sender with XChat (tickets mode)', () => {
  it('answers a person who wrote in XChat there, encrypted; the person\'s client decrypts and verifies it', async () => {
    const t = await setup({ xchatConversation: true });
    const res = await t.run();
    expect(res.batchItemFailures).toEqual([]);
    expect(t.dms).toEqual([]);
    expect(t.posted.map((p) => p.path)).toEqual([`chat/conversations/${t.conv.conversationId.replace(':', '-')}/messages`]);
    expect(JSON.stringify(t.posted)).not.toContain('Abrimos');
    expect(t.read(t.posted[0])).toMatchObject({ type: 'message', verified: true, senderId: fixtureAccountId, content: { text: 'Abrimos o chamado 4000' } });
  });

  it('after a lost answer sends the very same signed message again, never a second one', async () => {
    const t = await setup({ xchatConversation: true, failFirst: 1 });
    expect((await t.run()).batchItemFailures).toHaveLength(1);
    expect((await t.run()).batchItemFailures).toEqual([]);
    expect(t.posted).toHaveLength(2);
    expect(t.posted[1].body).toEqual(t.posted[0].body);
  });

  it('answers a person whose conversation is not from XChat with a plain DM', async () => {
    const t = await setup({ xchatConversation: false });
    await t.run();
    expect(t.dms).toEqual(['Abrimos o chamado 4000']);
    expect(t.posted).toEqual([]);
  });
});
