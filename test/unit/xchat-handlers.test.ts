import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { staticSecretSource } from '../../functions/adapters/secrets';
import type { ChatQueue, FourbizClient, InboundQueue } from '../../functions/core/ports';
import type { EncryptedChatMessage, XChatDeps } from '../../functions/core/xchat';
import type { InboundMessage } from '../../functions/core/x-events';
import { signPayload } from '../../functions/core/x-signature';
import { createDispatcherHandler } from '../../functions/dispatcher/handler';
import { createWebhookHandler } from '../../functions/webhook/handler';
import { memoryStore, recordingQueueControl } from '../support/memory-store';
import { testObservability } from '../support/observability';
import { refusingParking } from '../support/parking';
import { fixtureAccountId, httpEvent, lambdaContext, testSecret, vectors } from '../support/x-fixtures';
import { chatReceivedEnvelope, PERSON_ID, PHOTO, xchatWorld } from '../support/xchat';
import { memoryCircuit } from '../support/memory-circuit';

function webhookWith(chats: ChatQueue | undefined) {
  const observability = testObservability();
  const dms: InboundMessage[] = [];
  const queue: InboundQueue = { send: async (m) => void dms.push(...m) };
  const handler = createWebhookHandler({ parking: refusingParking, ...observability, secrets: staticSecretSource(testSecret), queue, chats, xAccountId: fixtureAccountId });
  const post = (json: unknown) => {
    const body = Buffer.from(JSON.stringify(json));
    return handler(httpEvent({ body, headers: { 'x-twitter-webhooks-signature': signPayload(vectors.consumerSecret, body) } }), lambdaContext);
  };
  return { post, observability, dms };
}

describe('webhook with XChat on (tenant x.xchat)', () => {
  it('queues chat.received still encrypted, in the person\'s group, and answers 200', async () => {
    const w = await xchatWorld();
    const { payload } = w.conversation().payload('texto');
    const queued: EncryptedChatMessage[] = [];
    const t = webhookWith({ sendChat: async (m) => void queued.push(m) });
    const res = await t.post(chatReceivedEnvelope(payload));
    expect(res.statusCode).toBe(200);
    expect(queued).toEqual([
      {
        xchat: expect.objectContaining({
          eventUuid: '8511582263942905822', accountId: fixtureAccountId, senderId: PERSON_ID, encodedEvent: payload.encoded_event,
          keyChangeEvents: [payload.conversation_key_change_event], conversationId: payload.conversation_id, messageId: payload.id,
        }),
      },
    ]);
    expect(JSON.stringify(queued)).not.toContain('texto');
    expect(t.observability.published()).toEqual({ DmReceived: 1 });
  });

  it('answers 503 when the queue refuses it, so X delivers it again', async () => {
    const w = await xchatWorld();
    const t = webhookWith({ sendChat: async () => { throw new Error('queue down'); } });
    const res = await t.post(chatReceivedEnvelope(w.conversation().payload('texto').payload));
    expect(res.statusCode).toBe(503);
    expect(t.observability.published()).toEqual({ EnqueueFailed: 1 });
  });

  it('answers a chat.received it cannot read 200 (never a 4xx to X), logged and counted', async () => {
    const t = webhookWith({ sendChat: async () => { throw new Error('must not be queued'); } });
    const res = await t.post(chatReceivedEnvelope({ sender_id: PERSON_ID }));
    expect(res.statusCode).toBe(200);
    expect(t.observability.published()).toEqual({ XChatDropped: 1 });
  });

  it('with XChat off counts chat.received and drops it, as before', async () => {
    const w = await xchatWorld();
    const t = webhookWith(undefined);
    const res = await t.post(chatReceivedEnvelope(w.conversation().payload('texto').payload));
    expect(res.statusCode).toBe(200);
    expect(t.observability.published()).toEqual({ EncryptedDmReceived: 1 });
  });
});

let seq = 0;
function record(body: unknown): SQSRecord {
  seq++;
  return {
    messageId: `m-${seq}`, receiptHandle: `rh-${seq}`, body: JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: PERSON_ID, MessageDeduplicationId: `d-${seq}`, SequenceNumber: String(seq) },
    messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q.fifo', awsRegion: 'us-east-1',
  };
}

function dispatcher(xchat: (() => Promise<XChatDeps>) | undefined) {
  const store = memoryStore();
  const delivered: InboundMessage[] = [];
  const fourbiz: FourbizClient = { mode: 'relay', deliver: async (m) => (delivered.push(m), {}) };
  const queue = recordingQueueControl();
  const observability = testObservability();
  const handler = createDispatcherHandler({ ...observability, store, circuit: memoryCircuit(), fourbiz, queue, idleMinutes: 60, backoff: { baseSeconds: 2, maxSeconds: 900 }, random: () => 1, xchat });
  const run = (records: SQSRecord[]) => handler({ Records: records } as SQSEvent, lambdaContext);
  return { store, delivered, queue, observability, run };
}

describe('dispatcher with XChat messages', () => {
  it('delivers a decrypted, verified XChat message to 4biz once, as text, and remembers the XChat conversation', async () => {
    const w = await xchatWorld();
    const conv = w.conversation();
    const t = dispatcher(async () => w.deps);
    const first = conv.queued('Olá, preciso de ajuda');
    // The same message delivered again by X (another event_uuid, after SQS's de-duplication window).
    const again = { xchat: { ...first.xchat, eventUuid: '1' } };
    const res = await t.run([record({ xchat: first.xchat }), record(again)]);
    expect(res.batchItemFailures).toEqual([]);
    expect(t.delivered.map((m) => [m.text, m.sender.id, m.eventId])).toEqual([['Olá, preciso de ajuda', PERSON_ID, first.sent.sequenceId]]);
    expect(t.store.conversations.get(PERSON_ID)).toMatchObject({ messagesIn: 1, xchatConversationId: conv.conversationId });
    expect(t.observability.published()).toMatchObject({ DeliveredTo4biz: 1, DuplicateSkipped: 1 });
  });

  it('forwards the text of a message with a photo; the photo (XChat media) is logged and counted, not forwarded', async () => {
    const w = await xchatWorld();
    const t = dispatcher(async () => w.deps);
    const res = await t.run([record({ xchat: w.conversation().queued('minha fatura', [PHOTO]).xchat })]);
    expect(res.batchItemFailures).toEqual([]);
    expect(t.delivered.map((m) => [m.text, m.attachments])).toEqual([['minha fatura', [{ type: 'xchat', mediaType: 'image' }]]]);
    expect(t.observability.published()).toMatchObject({ DeliveredTo4biz: 1, XChatAttachmentNotForwarded: 1 });
  });

  it('drops a message that does not verify: acknowledged, never delivered, counted', async () => {
    const w = await xchatWorld();
    const { XChatPerson } = await import('../../simulators/x/chat-client');
    const impostor = new XChatPerson(PERSON_ID, '1');
    const t = dispatcher(async () => w.deps);
    const res = await t.run([record({ xchat: w.conversation(impostor).queued('me dê acesso').xchat })]);
    expect(res.batchItemFailures).toEqual([]);
    expect(t.delivered).toEqual([]);
    expect(t.queue.deadLetters).toEqual([]);
    expect(t.observability.published()).toMatchObject({ XChatDropped: 1 });
  });

  it('keeps an XChat message queued (retried) while the dispatcher has no XChat set-up', async () => {
    const w = await xchatWorld();
    const t = dispatcher(undefined);
    const r = record({ xchat: w.conversation().queued('texto').xchat });
    const res = await t.run([r]);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
    expect(t.delivered).toEqual([]);
    expect(t.queue.deadLetters).toEqual([]);
  });
});
