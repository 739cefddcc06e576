import { openChatMessage } from '../../functions/core/xchat';
import { XChatPerson } from '../../simulators/x/chat-client';
import { fixtureAccountId } from '../support/x-fixtures';
import { PERSON_ID, PHOTO, xchatWorld } from '../support/xchat';

/** Flips one bit of the message ciphertext, the framing intact. */
function tampered(encodedEvent: string): string {
  const bytes = Buffer.from(encodedEvent, 'base64');
  bytes[bytes.indexOf(Buffer.from([0x0b, 0x00, 0x64])) + 17] ^= 0x01;
  return bytes.toString('base64');
}

describe('opening an XChat message (core/xchat, real chat-xdk cryptography)', () => {
  it('decrypts and verifies the person\'s message into an inbound message like a DM', async () => {
    const w = await xchatWorld();
    const conv = w.conversation();
    const queued = conv.queued('Olá, meu pedido 42 não chegou');
    const opened = await openChatMessage(queued, w.deps);
    expect(opened).toMatchObject({
      kind: 'message',
      message: {
        eventId: queued.sent.sequenceId,
        sender: { id: PERSON_ID },
        recipientId: fixtureAccountId,
        forUserId: fixtureAccountId,
        text: 'Olá, meu pedido 42 não chegou',
        xchat: { conversationId: conv.conversationId, messageId: queued.sent.messageId },
        raw: { event: { type: 'message_create', id: queued.sent.sequenceId, message_create: { sender_id: PERSON_ID, target: { recipient_id: fixtureAccountId } } } },
      },
    });
  });

  it('names a message\'s attachments (XChat media is not forwarded) and keeps its text', async () => {
    const w = await xchatWorld();
    const conv = w.conversation();
    const photos = await openChatMessage(conv.queued('segue a foto da fatura', [PHOTO, { ...PHOTO, media_hash_key: 'mh-77aa01' }]), w.deps);
    expect(photos).toMatchObject({ kind: 'message', message: { text: 'segue a foto da fatura', attachments: [{ type: 'xchat', mediaType: 'image' }, { type: 'xchat', mediaType: 'image' }] } });
    // A link card (chat-xdk allows it only alone) is named too; the text still carries what the person wrote.
    const link = await openChatMessage(conv.queued('o pedido', [{ attachment_type: 'url', url: 'https://example.com/pedido/42' }]), w.deps);
    expect(link).toMatchObject({ kind: 'message', message: { text: 'o pedido', attachments: [{ type: 'xchat', mediaType: 'url' }] } });
    // Nothing of the attachment itself (its media key, file name, link) is carried.
    const carried = JSON.stringify([photos, link]);
    for (const secret of ['mh-2f9c1e', 'mh-77aa01', 'fatura.jpg', 'example.com']) expect(carried).not.toContain(secret);
  });

  it('keeps the conversation key, wrapped, so a later message without a key change decrypts (any instance)', async () => {
    const w = await xchatWorld();
    const conv = w.conversation();
    await openChatMessage(conv.queued('primeira'), w.deps);
    const stored = w.keys.wrapped.get(conv.conversationId)!;
    expect(Object.keys(stored)).toHaveLength(1);
    // Wrapped, not the raw key: the stored value is longer than the 32 key bytes and not them.
    const [version] = Object.keys(stored);
    expect(Buffer.from(stored[version], 'base64').length).toBeGreaterThan(32);
    const second = conv.queued('segunda');
    expect(second.xchat.keyChangeEvents).toEqual([]);
    await expect(openChatMessage(second, w.deps)).resolves.toMatchObject({ kind: 'message', message: { text: 'segunda' } });
  });

  it('follows a conversation key change mid-conversation', async () => {
    const w = await xchatWorld();
    const conv = w.conversation();
    await openChatMessage(conv.queued('antes'), w.deps);
    conv.rotateKey();
    await expect(openChatMessage(conv.queued('depois da troca de chave'), w.deps)).resolves.toMatchObject({ kind: 'message', message: { text: 'depois da troca de chave' } });
    expect(Object.keys(w.keys.wrapped.get(conv.conversationId)!)).toHaveLength(2);
  });

  it('follows the person\'s new public keys: a signature that fails with cached keys is checked once more with X\'s current ones', async () => {
    const w = await xchatWorld();
    await w.publicKeys.signingKeys(PERSON_ID); // cached: the old keys
    const renewed = new XChatPerson(PERSON_ID, '1799999999999');
    w.publicKeys.set(PERSON_ID, renewed.publicKey);
    const conv = w.conversation(renewed);
    await expect(openChatMessage(conv.queued('chaves novas'), w.deps)).resolves.toMatchObject({ kind: 'message', message: { text: 'chaves novas' } });
    // Once cached (old keys), once fresh after the refusal.
    expect(w.publicKeys.reads).toEqual([PERSON_ID, PERSON_ID]);
  });

  it('refuses a tampered ciphertext (the sender\'s signature covers it)', async () => {
    const w = await xchatWorld();
    const queued = w.conversation().queued('texto');
    queued.xchat.encodedEvent = tampered(queued.xchat.encodedEvent);
    await expect(openChatMessage(queued, w.deps)).resolves.toMatchObject({ kind: 'refused', reason: 'unverified' });
  });

  it('refuses a message signed by someone who is not the sender X names', async () => {
    const w = await xchatWorld();
    const impostor = new XChatPerson(PERSON_ID, '1765382634817');
    const queued = w.conversation(impostor).queued('sou eu, confie');
    const opened = await openChatMessage(queued, w.deps);
    expect(opened).toMatchObject({ kind: 'refused', reason: 'unverified' });
    expect(JSON.stringify(opened)).not.toContain('confie');
  });

  it('refuses a delivery whose sender is not the one who signed, or a conversation without the company', async () => {
    const w = await xchatWorld();
    const conv = w.conversation();
    const other = conv.queued('texto');
    other.xchat.senderId = '2900000000000000099';
    w.publicKeys.set('2900000000000000099', w.person.publicKey);
    await expect(openChatMessage(other, w.deps)).resolves.toMatchObject({ kind: 'refused', reason: 'mismatch' });
    const elsewhere = conv.queued('texto');
    elsewhere.xchat.conversationId = `${PERSON_ID}:3000000000000000001`;
    await expect(openChatMessage(elsewhere, w.deps)).resolves.toMatchObject({ kind: 'refused', reason: 'mismatch' });
  });

  it('refuses a message whose conversation key neither the delivery, the table nor X\'s conversation events hold', async () => {
    const w = await xchatWorld();
    const queued = w.conversation().queued('sem chave');
    queued.xchat.keyChangeEvents = [];
    const asked: string[] = [];
    const xHasNone = { ...w.deps, keyEvents: { keyChangeEvents: async (id: string) => (asked.push(id), []) } };
    await expect(openChatMessage(queued, xHasNone)).resolves.toMatchObject({ kind: 'refused', reason: 'undecryptable' });
    expect(asked).toEqual([queued.xchat.conversationId]);
  });

  it('a message whose key X did not send with it: the key change is read from X\'s conversation events, verified and kept', async () => {
    const w = await xchatWorld();
    const conv = w.conversation();
    const first = conv.queued('a chave não veio junto');
    first.xchat.keyChangeEvents = [];
    await expect(openChatMessage(first, w.deps)).resolves.toMatchObject({ kind: 'message', message: { text: 'a chave não veio junto' } });
    expect(w.keyEvents.reads).toEqual([conv.conversationId]);
    expect(Object.keys(w.keys.wrapped.get(conv.conversationId)!)).toHaveLength(1);
    // Kept: the next message needs no read of X.
    await expect(openChatMessage(conv.queued('segunda'), w.deps)).resolves.toMatchObject({ kind: 'message', message: { text: 'segunda' } });
    expect(w.keyEvents.reads).toHaveLength(1);
  });

  it('a key rotated by the company\'s own XChat app (only in X\'s history) is followed: its signature is the company\'s', async () => {
    const w = await xchatWorld();
    const conv = w.conversation();
    await openChatMessage(conv.queued('antes'), w.deps);
    const rotated = w.companyClient.changeConversationKey({ userId: PERSON_ID, publicKey: w.person.publicKey });
    expect(rotated.conversationId).toBe(conv.conversationId);
    w.keyEvents.record(conv.conversationId, rotated.keyChangeEvent);
    w.person.adoptConversationKeysOf(w.companyClient);
    const queued = conv.queued('com a chave nova da empresa');
    expect(queued.xchat.keyChangeEvents).toEqual([]);
    await expect(openChatMessage(queued, w.deps)).resolves.toMatchObject({ kind: 'message', message: { text: 'com a chave nova da empresa' } });
  });

  it('never uses a key change from X\'s history whose signature does not verify', async () => {
    const w = await xchatWorld();
    const asked: string[] = [];
    const conv = w.conversation();
    const queued = conv.queued('chave adulterada no histórico');
    const forged = Buffer.from(queued.xchat.keyChangeEvents[0]!, 'base64');
    // One character of the key change's signature (field 9, its first string) changed.
    forged[forged.lastIndexOf(Buffer.from([0x0c, 0x00, 0x09])) + 12] ^= 0x01;
    queued.xchat.keyChangeEvents = [];
    const xForged = { ...w.deps, keyEvents: { keyChangeEvents: async (id: string) => (asked.push(id), [forged.toString('base64')]) } };
    await expect(openChatMessage(queued, xForged)).resolves.toMatchObject({ kind: 'refused', reason: 'undecryptable' });
    expect(asked).toEqual([conv.conversationId]);
    expect(w.keys.wrapped.get(conv.conversationId)).toBeUndefined();
  });

  it('lets a failure to read X\'s conversation events through, to be retried', async () => {
    const w = await xchatWorld();
    const queued = w.conversation().queued('texto');
    queued.xchat.keyChangeEvents = [];
    const down = { ...w.deps, keyEvents: { keyChangeEvents: async () => { throw new Error('X unreachable'); } } };
    await expect(openChatMessage(queued, down)).rejects.toThrow('X unreachable');
  });

  it('lets a failure to read X\'s public keys through, to be retried', async () => {
    const w = await xchatWorld();
    const queued = w.conversation().queued('texto');
    const down = { ...w.deps, publicKeys: { signingKeys: async () => { throw new Error('X unreachable'); } } };
    await expect(openChatMessage(queued, down)).rejects.toThrow('X unreachable');
  });
});
