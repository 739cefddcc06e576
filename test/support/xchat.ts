import type { AttachmentDescriptor } from '@xdevplatform/chat-xdk';
import { createXChatCrypto } from '../../functions/adapters/xchat-crypto';
import { localKeyWrap } from '../../functions/adapters/xchat-keys';
import type { ConversationKeyEvents, ConversationKeys, ConversationKeyStore, EncryptedChatMessage, PublicKeySource, SigningKey, XChatDeps } from '../../functions/core/xchat';
import { signingKeyEntry, XChatPerson, type XPublicKey } from '../../simulators/x/chat-client';
import { fixtureAccountId } from './x-fixtures';

export const PERSON_ID = '2900000000000000088';

/** Conversation keys in memory, wrapped as the table holds them (so the wrap is exercised too). */
function memoryKeyStore(keyBlob: string): ConversationKeyStore & { wrapped: Map<string, Record<string, string>> } {
  const wrap = localKeyWrap(keyBlob);
  const wrapped = new Map<string, Record<string, string>>();
  return {
    wrapped,
    async get(conversationId) {
      const keys: ConversationKeys = {};
      for (const [v, w] of Object.entries(wrapped.get(conversationId) ?? {})) keys[v] = await wrap.unwrap(w, conversationId);
      return keys;
    },
    async add(conversationId, keys) {
      const item = wrapped.get(conversationId) ?? {};
      for (const [v, k] of Object.entries(keys)) item[v] ??= await wrap.wrap(k, conversationId);
      wrapped.set(conversationId, item);
    },
  };
}

/** X's public keys of each user, as X would answer them now; counts the reads. */
function memoryPublicKeys(): PublicKeySource & { set(userId: string, key: XPublicKey): void; reads: string[] } {
  const current = new Map<string, SigningKey[]>();
  const cached = new Map<string, SigningKey[]>();
  const reads: string[] = [];
  return {
    reads,
    set(userId, key) {
      current.set(userId, [signingKeyEntry(userId, key)]);
    },
    async signingKeys(userId, { fresh = false } = {}) {
      if (fresh || !cached.has(userId)) {
        reads.push(userId);
        cached.set(userId, current.get(userId) ?? []);
      }
      return cached.get(userId)!;
    },
  };
}

/** X's history of each conversation's key changes (what `GET /2/chat/conversations/:id/events` answers in meta); counts the reads. */
function memoryKeyEvents(): ConversationKeyEvents & { record(conversationId: string, keyChangeEvent: string): void; reads: string[] } {
  const history = new Map<string, string[]>();
  const reads: string[] = [];
  return {
    reads,
    record(conversationId, keyChangeEvent) {
      history.set(conversationId, [keyChangeEvent, ...(history.get(conversationId) ?? [])]);
    },
    async keyChangeEvents(conversationId) {
      reads.push(conversationId);
      return history.get(conversationId) ?? [];
    },
  };
}

/** The company (its keys as the tenant secret holds them), a person who writes to it, and the bridge's XChat set-up. */
export async function xchatWorld() {
  const companyClient = new XChatPerson(fixtureAccountId, '1765000000000');
  const company = { userId: fixtureAccountId, keyBlob: companyClient.keyBlob(), publicKeyVersion: companyClient.publicKey.public_key_version };
  const person = new XChatPerson(PERSON_ID, '1765382634817');
  const publicKeys = memoryPublicKeys();
  publicKeys.set(PERSON_ID, person.publicKey);
  publicKeys.set(fixtureAccountId, companyClient.publicKey);
  const keys = memoryKeyStore(company.keyBlob);
  const crypto = await createXChatCrypto(() => company)();
  const keyEvents = memoryKeyEvents();
  const deps: XChatDeps = { crypto, keys, publicKeys, keyEvents };
  let uuid = 8_511_582_263_942_905_000;
  /** The person's conversation with the company: its key change, and messages as X's chat.received queues them. */
  function conversation(writer = person) {
    const { conversationId, keyChangeEvent } = writer.changeConversationKey({ userId: fixtureAccountId, publicKey: companyClient.publicKey });
    let pendingKeyChange: string | undefined = keyChangeEvent;
    keyEvents.record(conversationId, keyChangeEvent);
    return {
      conversationId,
      rotateKey() {
        pendingKeyChange = writer.changeConversationKey({ userId: fixtureAccountId, publicKey: companyClient.publicKey }).keyChangeEvent;
        keyEvents.record(conversationId, pendingKeyChange);
      },
      /** The chat.received payload X would deliver (the key change with the first message after it). */
      payload(text: string, attachments?: AttachmentDescriptor[]) {
        const sent = writer.write(conversationId, text, Date.now(), attachments);
        const payload = {
          id: sent.messageId,
          sender_id: PERSON_ID,
          conversation_id: conversationId,
          created_at_msec: String(Date.now()),
          encoded_event: sent.encodedEvent,
          ...(pendingKeyChange ? { conversation_key_change_event: pendingKeyChange } : {}),
        };
        pendingKeyChange = undefined;
        return { payload, sent };
      },
      queued(text: string, attachments?: AttachmentDescriptor[]): EncryptedChatMessage & { sent: ReturnType<XChatPerson['write']> } {
        const { payload, sent } = this.payload(text, attachments);
        return {
          sent,
          xchat: {
            eventUuid: String(++uuid),
            accountId: fixtureAccountId,
            senderId: PERSON_ID,
            messageId: payload.id,
            conversationId,
            encodedEvent: payload.encoded_event,
            keyChangeEvents: payload.conversation_key_change_event ? [payload.conversation_key_change_event] : [],
            receivedAt: new Date().toISOString(),
          },
        };
      },
    };
  }
  return { company, companyClient, person, publicKeys, keys, keyEvents, crypto, deps, conversation };
}

/** A photo as an XChat client attaches it (the encrypted bytes would be in X's chat media store). */
export const PHOTO: Extract<AttachmentDescriptor, { attachment_type: 'media' }> = { attachment_type: 'media', media_hash_key: 'mh-2f9c1e', width: 640, height: 480, filesize_bytes: 48_213, filename: 'fatura.jpg', media_type: 1 };

/** The X Activity API envelope of a chat.received. */
export function chatReceivedEnvelope(payload: object, eventUuid = '8511582263942905822') {
  return { data: { event_uuid: eventUuid, filter: { user_id: fixtureAccountId }, event_type: 'chat.received', tag: 'chat-inbound', payload } };
}
