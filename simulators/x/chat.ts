import { frameSentMessage, nextSequenceId, signingKeyEntry, XChatPerson, type XPublicKey } from './chat-client';
import { invalidRequest, notFound } from './problems';
import type { Route } from './route';

/**
 * XChat (X's end-to-end encrypted chats), the routes the bridge uses: `GET /2/users/:id/public_keys`,
 * `POST /2/chat/conversations/:id/messages` and `GET /2/chat/conversations/:id/events` (X's
 * OpenAPI), and the people on the other side:
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
  /**
   * X delivers the message without the pending key change (first message or rotation): the key
   * change is only in the conversation's events (`GET /2/chat/conversations/:id/events`).
   */
  keyChangeNotDelivered?: boolean;
}

/** What X keeps of a conversation: its events (newest last) and its key changes. */
interface ConversationHistory {
  events: { sequenceId: string; messageId: string; senderId: string; createdAtMsec: number; encodedEvent: string }[];
  keyChangeEvents: string[];
}

const COMPANY_KEY_VERSION = '1765000000000';
const PERSON_KEY_VERSION = '1765382634817';

export function chatFamily(opts: { accountId: string; emitActivity: (eventType: string, payload: unknown) => Promise<unknown[]> }) {
  const { accountId } = opts;
  // Made on first use: a simulator that never sees XChat never loads chat-xdk.
  let companyClient: XChatPerson | undefined;
  const companyOf = () => (companyClient ??= new XChatPerson(accountId, COMPANY_KEY_VERSION));
  const people = new Map<string, { person: XChatPerson; conversationId: string; pendingKeyChange?: string; history: ConversationHistory }>();
  const read: ChatMessageRead[] = [];

  const keysOf = (userId: string): XPublicKey | undefined => (userId === accountId ? companyOf().publicKey : people.get(userId)?.person.publicKey);

  function chatWith(senderId: string) {
    let chat = people.get(senderId);
    if (!chat) {
      const person = new XChatPerson(senderId, PERSON_KEY_VERSION);
      const { conversationId, keyChangeEvent } = person.changeConversationKey({ userId: accountId, publicKey: companyOf().publicKey });
      chat = { person, conversationId, pendingKeyChange: keyChangeEvent, history: { events: [], keyChangeEvents: [keyChangeEvent] } };
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
      const sequenceId = nextSequenceId();
      const event = frameSentMessage({
        sequenceId,
        senderId: accountId,
        conversationId,
        messageId: b.message_id,
        encodedMessageCreateEvent: b.encoded_message_create_event,
        encodedMessageEventSignature: String(b.encoded_message_event_signature ?? ''),
      });
      chat.history.events.push({ sequenceId, messageId: b.message_id, senderId: accountId, createdAtMsec: Date.now(), encodedEvent: event });
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

  const conversationEvents: Route = {
    method: 'GET',
    pattern: /^\/2\/chat\/conversations\/([0-9]{1,19}-[0-9]{1,19}|[0-9]{1,19})\/events$/,
    name: 'GET /2/chat/conversations/:id/events',
    auth: 'user',
    kind: 'chat',
    async handle({ params, url }) {
      // A one-to-one conversation is named A-B, or by the other participant's id alone.
      const id = params[0]!;
      const chat = [...people.values()].find((c) => c.conversationId === id.replace('-', ':') || (!id.includes('-') && c.person.userId === id));
      if (!chat) throw notFound('conversation', id);
      const max = Number(url.searchParams.get('max_results') ?? 10);
      if (!Number.isInteger(max) || max < 1 || max > 100) throw invalidRequest(`The \`max_results\` query parameter value [${url.searchParams.get('max_results')}] is not between 1 and 100`, { max_results: [String(max)] });
      const token = url.searchParams.get('pagination_token');
      const from = token === null ? 0 : Number(token);
      if (!Number.isInteger(from) || from < 0) throw invalidRequest(`The \`pagination_token\` query parameter value [${token}] is not valid`, { pagination_token: [String(token)] });
      const newestFirst = [...chat.history.events].reverse();
      const page = newestFirst.slice(from, from + max);
      const more = from + max < newestFirst.length;
      return {
        status: 200,
        body: {
          data: page.map((e) => ({
            id: e.messageId,
            sequence_id: e.sequenceId,
            sender_id: e.senderId,
            conversation_id: chat.conversationId,
            created_at: new Date(e.createdAtMsec).toISOString(),
            created_at_msec: String(e.createdAtMsec),
            encoded_event: e.encodedEvent,
          })),
          meta: {
            result_count: page.length,
            // Key changes come apart from the messages, newest first.
            conversation_key_events: [...chat.history.keyChangeEvents].reverse(),
            has_more: more,
            ...(more ? { next_token: String(from + max) } : {}),
          },
        },
      };
    },
  };

  return {
    routes: [publicKeys, sendMessage, conversationEvents],
    /** What the people's clients read of the company's messages, in order. */
    read,
    /** The company's XChat keys as the tenant secret holds them (`xchat`). */
    companyKeys: () => ({ keyBlob: companyOf().keyBlob(), publicKeyVersion: COMPANY_KEY_VERSION }),
    /** A person writes to the company in XChat: X delivers `chat.received`. Returns the signed message id. */
    async receiveChat(message: ReceiveChat): Promise<{ messageId: string; deliveries: unknown[] }> {
      const chat = chatWith(message.senderId);
      if (message.rotateKey) {
        chat.pendingKeyChange = chat.person.changeConversationKey({ userId: accountId, publicKey: companyOf().publicKey }).keyChangeEvent;
        chat.history.keyChangeEvents.push(chat.pendingKeyChange);
      }
      if (message.keyChangeNotDelivered) chat.pendingKeyChange = undefined;
      const writer = message.forged ? forgerOf(chat) : chat.person;
      const sent = writer.write(chat.conversationId, message.text);
      const encodedEvent = message.tampered ? flipCiphertextBit(sent.encodedEvent) : sent.encodedEvent;
      chat.history.events.push({ sequenceId: sent.sequenceId, messageId: sent.messageId, senderId: message.senderId, createdAtMsec: Date.now(), encodedEvent });
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
