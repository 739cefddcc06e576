import { frameSentMessage, signingKeyEntry, XChatPerson, type XPublicKey } from './chat-client';
import { invalidRequest, notFound } from './problems';
import type { Route } from './route';

/**
 * XChat (X's end-to-end encrypted chats), the routes the bridge uses: `GET /2/users/:id/public_keys`
 * and `POST /2/chat/conversations/:id/messages` (X's OpenAPI), and the people on the other side:
 * each is an XChat client with real chat-xdk keys (chat-client.ts) who writes to the company
 * (`chat.received` through the X Activity API) and reads what the company sends, decrypting and
 * verifying it. The company's keys are made here too: X holds the company's public keys, the key
 * blob goes to the bridge's secret (`companyKeys`), as an operator puts it there.
 */

/** What a person's client made of a message the company sent. */
export interface ChatMessageRead {
  conversationId: string;
  senderId: string;
  messageId: string;
  text?: string;
  verified: boolean;
  /** Why the person's client refused it (did not decrypt or verify). */
  refused?: string;
}

export interface ReceiveChat {
  senderId: string;
  text: string;
  /** A new conversation key before this message (a key change mid-conversation). */
  rotateKey?: boolean;
  /** Signed with keys X does not have for the sender (a forged message). */
  forged?: boolean;
  /** One bit of the ciphertext flipped on the way. */
  tampered?: boolean;
}

const COMPANY_KEY_VERSION = '1765000000000';
const PERSON_KEY_VERSION = '1765382634817';

export function chatFamily(opts: { accountId: string; emitActivity: (eventType: string, payload: unknown) => Promise<unknown[]> }) {
  const { accountId } = opts;
  // Made on first use: a simulator that never sees XChat never loads chat-xdk.
  let companyClient: XChatPerson | undefined;
  const companyOf = () => (companyClient ??= new XChatPerson(accountId, COMPANY_KEY_VERSION));
  const people = new Map<string, { person: XChatPerson; conversationId: string; pendingKeyChange?: string }>();
  const read: ChatMessageRead[] = [];

  const keysOf = (userId: string): XPublicKey | undefined => (userId === accountId ? companyOf().publicKey : people.get(userId)?.person.publicKey);

  function chatWith(senderId: string) {
    let chat = people.get(senderId);
    if (!chat) {
      const person = new XChatPerson(senderId, PERSON_KEY_VERSION);
      const { conversationId, keyChangeEvent } = person.changeConversationKey({ userId: accountId, publicKey: companyOf().publicKey });
      chat = { person, conversationId, pendingKeyChange: keyChangeEvent };
      people.set(senderId, chat);
    }
    return chat;
  }

  const publicKeys: Route = {
    method: 'GET',
    pattern: /^\/2\/users\/(\d{1,19})\/public_keys$/,
    name: 'GET /2/users/:id/public_keys',
    auth: 'user',
    kind: 'chat',
    async handle({ params }) {
      const key = keysOf(params[0]!);
      return { status: 200, body: { data: key ? [key] : [] } };
    },
  };

  const sendMessage: Route = {
    method: 'POST',
    pattern: /^\/2\/chat\/conversations\/([0-9]{1,19}-[0-9]{1,19})\/messages$/,
    name: 'POST /2/chat/conversations/:id/messages',
    auth: 'user',
    kind: 'chat',
    async handle({ params, body }) {
      const b = (body ?? {}) as Record<string, unknown>;
      if (typeof b.message_id !== 'string' || typeof b.encoded_message_create_event !== 'string') {
        throw invalidRequest('`message_id` and `encoded_message_create_event` are required', { message_id: [], encoded_message_create_event: [] });
      }
      const conversationId = params[0]!.replace('-', ':');
      const chat = [...people.values()].find((c) => c.conversationId === conversationId);
      if (!chat) throw notFound('conversation', params[0]!);
      const event = frameSentMessage({
        senderId: accountId,
        conversationId,
        messageId: b.message_id,
        encodedMessageCreateEvent: b.encoded_message_create_event,
        encodedMessageEventSignature: String(b.encoded_message_event_signature ?? ''),
      });
      const signingKeys = [signingKeyEntry(accountId, companyOf().publicKey), signingKeyEntry(chat.person.userId, chat.person.publicKey)];
      try {
        const e = chat.person.read(event, signingKeys);
        read.push({ conversationId, senderId: accountId, messageId: b.message_id, text: e.content?.text, verified: e.verified === true });
      } catch (err) {
        read.push({ conversationId, senderId: accountId, messageId: b.message_id, verified: false, refused: String((err as Error).message) });
      }
      return { status: 201, body: { data: { encoded_message_event: event } } };
    },
  };

  return {
    routes: [publicKeys, sendMessage],
    /** What the people's clients read of the company's messages, in order. */
    read,
    /** The company's XChat keys as the tenant secret holds them (`xchat`). */
    companyKeys: () => ({ keyBlob: companyOf().keyBlob(), publicKeyVersion: COMPANY_KEY_VERSION }),
    /** A person writes to the company in XChat: X delivers `chat.received`. Returns the signed message id. */
    async receiveChat(message: ReceiveChat): Promise<{ messageId: string; deliveries: unknown[] }> {
      const chat = chatWith(message.senderId);
      if (message.rotateKey) chat.pendingKeyChange = chat.person.changeConversationKey({ userId: accountId, publicKey: companyOf().publicKey }).keyChangeEvent;
      const writer = message.forged ? forgerOf(chat) : chat.person;
      const sent = writer.write(chat.conversationId, message.text);
      const encodedEvent = message.tampered ? flipCiphertextBit(sent.encodedEvent) : sent.encodedEvent;
      const payload = {
        id: sent.messageId,
        sender_id: message.senderId,
        conversation_id: chat.conversationId,
        created_at_msec: String(Date.now()),
        encoded_event: encodedEvent,
        ...(chat.pendingKeyChange ? { conversation_key_change_event: chat.pendingKeyChange } : {}),
        message_event_signature: { public_key_version: sent.signature.publicKeyVersion, signature: sent.signature.signature, signature_version: sent.signature.signatureVersion },
      };
      chat.pendingKeyChange = undefined;
      return { messageId: sent.messageId, deliveries: await opts.emitActivity('chat.received', payload) };
    },
    reset() {
      people.clear();
      read.length = 0;
    },
  };
}

/** Someone with the person's conversation key but not their signing key: writes in their name. */
function forgerOf(chat: { person: XChatPerson }): XChatPerson {
  const forger = new XChatPerson(chat.person.userId, chat.person.publicKey.public_key_version);
  forger.adoptConversationKeysOf(chat.person);
  return forger;
}

function flipCiphertextBit(encodedEvent: string): string {
  const bytes = Buffer.from(encodedEvent, 'base64');
  bytes[bytes.indexOf(Buffer.from([0x0b, 0x00, 0x64])) + 17] ^= 0x01;
  return bytes.toString('base64');
}
