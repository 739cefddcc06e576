import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHAT_XDK_VERSION, chatXdkDir, newXChatEngine } from '../../functions/adapters/xchat-engine';
import { frameMessageEvent, messageCreateDetail, signingKeyEntry, XChatPerson } from '../../simulators/x/chat-client';

/**
 * The spike of issue 20, kept as a test: chat-xdk's WASM engine, offline, with a key blob. Two
 * identities; a message encrypted by one is decrypted and verified by the other; a reply goes back;
 * a tampered or wrongly signed event is refused.
 */
const PERSON = '2900000000000000088';
const COMPANY = '1400000000000000001';

function setUp() {
  const person = new XChatPerson(PERSON, '1765382634817');
  const companyClient = new XChatPerson(COMPANY, '1765000000000');
  // The company's side as the bridge runs it: only the key blob, imported into a fresh engine.
  const company = newXChatEngine();
  company.importKeys(Buffer.from(companyClient.keyBlob(), 'base64'), companyClient.publicKey.public_key_version);
  company.setIdentity(COMPANY, companyClient.publicKey.public_key_version);
  const signingKeys = [signingKeyEntry(PERSON, person.publicKey), signingKeyEntry(COMPANY, companyClient.publicKey)];
  const { conversationId, keyChangeEvent } = person.changeConversationKey({ userId: COMPANY, publicKey: companyClient.publicKey });
  return { person, company, signingKeys, conversationId, keyChangeEvent };
}

/** Flips one bit of the ciphertext inside the message (the MessageCreateEvent's `contents`), the framing intact. */
function tamperCiphertext(encodedEvent: string): string {
  const bytes = Buffer.from(encodedEvent, 'base64');
  const contents = bytes.indexOf(Buffer.from([0x0b, 0x00, 0x64]));
  bytes[contents + 7 + 10] ^= 0x01;
  return bytes.toString('base64');
}

describe('chat-xdk engine (offline, key blob)', () => {
  it('decrypts and verifies a message the person encrypted, and the person reads the signed reply', () => {
    const { person, company, signingKeys, conversationId, keyChangeEvent } = setUp();
    const sent = person.write(conversationId, 'Olá, preciso de ajuda com o pedido 42');

    const keys = company.decryptEvents([keyChangeEvent], signingKeys);
    expect(keys.errors).toEqual({});
    const event = company.decryptEvent(sent.encodedEvent, keys.conversationKeys.keys, signingKeys);
    expect(event).toMatchObject({ type: 'message', verified: true, senderId: PERSON, id: sent.messageId, sequenceId: sent.sequenceId, conversationId });
    expect(event.content?.text).toBe('Olá, preciso de ajuda com o pedido 42');

    const version = keys.conversationKeys.latestVersion!;
    const reply = company.encryptReply({ conversationId, text: 'Abrimos o chamado 123', replyToEvent: sent.encodedEvent, conversationKey: keys.conversationKeys.keys[version], conversationKeyVersion: version });
    const delivered = frameMessageEvent({
      sequenceId: '9', messageId: reply.messageId, senderId: COMPANY, conversationId, createdAtMsec: Date.now(),
      detail: messageCreateDetail(reply.encryptedContent), signature: { signature: reply.signature, ...reply.signatureInfo },
    });
    const read = person.engine.decryptEvents([keyChangeEvent, delivered], signingKeys);
    expect(read.errors).toEqual({});
    expect(read.messages.map((m) => [m.event.type, m.event.verified, m.event.senderId, m.event.content?.text])).toEqual([
      ['keyChange', true, PERSON, undefined],
      ['message', true, COMPANY, 'Abrimos o chamado 123'],
    ]);
  });

  it('refuses a tampered ciphertext', () => {
    const { person, company, signingKeys, conversationId, keyChangeEvent } = setUp();
    const sent = person.write(conversationId, 'texto');
    const keys = company.decryptEvents([keyChangeEvent], signingKeys).conversationKeys.keys;
    expect(() => company.decryptEvent(tamperCiphertext(sent.encodedEvent), keys, signingKeys)).toThrow();
  });

  it('refuses a message signed by someone else than the sender X names', () => {
    const { person, company, signingKeys, conversationId, keyChangeEvent } = setUp();
    const keys = company.decryptEvents([keyChangeEvent], signingKeys).conversationKeys.keys;
    const sent = person.write(conversationId, 'texto');
    const impostor = new XChatPerson(PERSON, person.publicKey.public_key_version);
    const wrongKeys = signingKeys.map((k) => (k.userId === PERSON ? signingKeyEntry(PERSON, impostor.publicKey) : k));
    expect(() => company.decryptEvent(sent.encodedEvent, keys, wrongKeys)).toThrow(/signature/i);
  });

  it('exports and imports the same key blob (what the tenant secret holds)', () => {
    const person = new XChatPerson(PERSON, '1');
    const copy = newXChatEngine();
    copy.importKeys(Buffer.from(person.keyBlob(), 'base64'), '1');
    expect(copy.matchesRegisteredKey(person.publicKey.public_key)).toBe(true);
    expect(Buffer.from(copy.exportKeys()).toString('base64')).toBe(person.keyBlob());
  });
});

/**
 * The bridge uses chat-xdk's WASM engine, which the package does not export (see
 * functions/adapters/xchat-engine.ts). Any change of the package fails here, loudly: re-check the
 * engine's `importKeys`/`exportKeys` and the event layout, then update the pins.
 */
describe('chat-xdk is the version the engine path was checked against', () => {
  const dir = chatXdkDir();
  const sha256 = (file: string) => createHash('sha256').update(readFileSync(join(dir, file))).digest('hex');

  it(`is ${CHAT_XDK_VERSION}, pinned exactly in package.json`, () => {
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version).toBe(CHAT_XDK_VERSION);
    const ours = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    expect(ours.dependencies['@xdevplatform/chat-xdk']).toBe(CHAT_XDK_VERSION);
  });

  it('ships the engine files with the hashes checked', () => {
    expect({ glue: sha256('pkg/chat_xdk_wasm.js'), wasm: sha256('pkg/chat_xdk_wasm_bg.wasm') }).toEqual(PINNED_HASHES);
  });

  it('still hides the engine from its public entry point (if X exports key import one day, use that instead)', () => {
    const publicTypes = readFileSync(join(dir, 'index.d.ts'), 'utf8');
    expect(publicTypes).toMatch(/Internal crypto engine wrapped by ChatWithJuicebox\. Not part of the public API\./);
    expect(publicTypes).not.toMatch(/export (declare )?class Chat\b/);
  });
});

const PINNED_HASHES = { glue: '05fe71abacdbacfaf2fd3f26e6188f1c0cfb32a99d3f78ca3f6437ba4e17a5cc', wasm: '2fbe11b5aa894efa394ea8d4ae08763b5c46bd81355d96d6d9e5d1b50abf0d06' };
