import { z } from 'zod';
import { BridgeError } from './errors';
import { dmEventIdSchema, type InboundMessage } from './x-events';
import { minimalV1User, xUserIdSchema } from './x-users';

/**
 * XChat (X's end-to-end encrypted chats). A `chat.received` event carries the person's message
 * encrypted for the company's keys: the webhook queues it as it came (an encrypted chat message,
 * same queue and order as the person's DMs), the dispatcher opens it here: conversation keys from
 * the key-change events (verified), the message decrypted and its signature verified against the
 * sender's public keys; only then is it an inbound message like a DM. Content stays encrypted
 * until that point, and is never logged.
 */

/** `chat.received`'s payload (X Activity API). Field availability varies: only what decryption needs is required. */
export const chatReceivedPayloadSchema = z
  .object({
    /** The message id X names (the signed one inside the event is what counts). */
    id: z.string().min(1).max(100).optional(),
    sender_id: xUserIdSchema,
    conversation_id: z.string().min(1).max(100),
    encoded_event: z.string().min(1).max(200_000),
    conversation_key_change_event: z.string().min(1).max(200_000).optional(),
    conversation_token: z.string().min(1).max(4_000).optional(),
  })
  .passthrough();

/** What the webhook queues for a `chat.received`: still encrypted. */
export const encryptedChatMessageSchema = z.object({
  xchat: z.object({
    /** X's delivery id (the queue's de-duplication id). */
    eventUuid: z.string().min(1).max(64),
    /** The company's account (the tenant's `xAccountId`). */
    accountId: xUserIdSchema,
    /** The sender X names; the decrypted event must say the same. */
    senderId: xUserIdSchema,
    messageId: z.string().min(1).max(100).optional(),
    conversationId: z.string().min(1).max(100),
    encodedEvent: z.string().min(1),
    keyChangeEvents: z.array(z.string().min(1)).max(10),
    conversationToken: z.string().optional(),
    receivedAt: z.string(),
  }),
});
export type EncryptedChatMessage = z.infer<typeof encryptedChatMessageSchema>;

/** A `chat.received` payload as the webhook queues it. */
export function encryptedChatMessage(
  payload: z.infer<typeof chatReceivedPayloadSchema>,
  ctx: { eventUuid: string; accountId: string; receivedAtMs: number },
): EncryptedChatMessage {
  return {
    xchat: {
      eventUuid: ctx.eventUuid,
      accountId: ctx.accountId,
      senderId: payload.sender_id,
      messageId: payload.id,
      conversationId: payload.conversation_id,
      encodedEvent: payload.encoded_event,
      keyChangeEvents: payload.conversation_key_change_event ? [payload.conversation_key_change_event] : [],
      conversationToken: payload.conversation_token,
      receivedAt: new Date(ctx.receivedAtMs).toISOString(),
    },
  };
}

/** A participant's signing key as chat-xdk verifies with it (X's public keys of that user). */
export interface SigningKey {
  userId: string;
  publicKeyVersion: string;
  publicKey: string;
  identityPublicKey: string;
  identityPublicKeySignature: string;
}

/** Conversation keys by version (raw 32-byte keys). */
export type ConversationKeys = Record<string, Uint8Array>;

/** A decrypted event, as far as the bridge reads it. */
export interface DecryptedChatEvent {
  type: string;
  sequenceId?: string;
  messageId?: string;
  senderId?: string;
  conversationId?: string;
  createdAtMsec?: number;
  verified: boolean;
  text?: string;
  /** What each attachment is ("image", "url"…): XChat media is not forwarded, only named. */
  attachments: string[];
}

/** chat-xdk refused an event: it does not verify, or cannot be decrypted (`missingKey`: no key of its version was given). */
export class XChatRefusedError extends BridgeError {
  constructor(
    readonly reason: 'unverified' | 'undecryptable',
    message: string,
    readonly missingKey = false,
  ) {
    super(message);
  }
}

/** The company's XChat cryptography (chat-xdk with the company's key blob). */
export interface XChatCrypto {
  /** The conversation keys of key-change events that verify; the others are reported by index. */
  conversationKeys(keyChangeEvents: string[], signingKeys: SigningKey[]): { keys: ConversationKeys; refused: number };
  /** Decrypts and verifies; throws XChatRefusedError. */
  decrypt(encodedEvent: string, keys: ConversationKeys, signingKeys: SigningKey[]): DecryptedChatEvent;
}

/** Conversation keys persisted (encrypted) so any function instance can decrypt and answer. */
export interface ConversationKeyStore {
  get(conversationId: string): Promise<ConversationKeys>;
  /** Adds versions; existing versions stay. */
  add(conversationId: string, keys: ConversationKeys): Promise<void>;
}

/**
 * Sends an answer into an XChat conversation, encrypted and signed with the company's keys
 * (`POST /2/chat/conversations/:id/messages`). `outboxId` names the answer part: a retry sends the
 * same encrypted message again (same signed message id), never a second one.
 */
export interface XChatReplier {
  sendReply(reply: XChatReply): Promise<void>;
}

export interface XChatReply {
  conversationId: string;
  text: string;
  outboxId: string;
  /** The person's message answered (an XChat reply names one): its sequence id and sender. */
  replyTo: { sequenceId: string; senderId: string };
}

/**
 * X's key-change events of a conversation (`GET /2/chat/conversations/:id/events`,
 * `meta.conversation_key_events`), for a message whose key the bridge never got with a delivery.
 */
export interface ConversationKeyEvents {
  keyChangeEvents(conversationId: string): Promise<string[]>;
}

/** X's public keys of a user (`GET /2/users/:id/public_keys`), cached; `fresh` reads X again. */
export interface PublicKeySource {
  signingKeys(userId: string, options?: { fresh?: boolean }): Promise<SigningKey[]>;
}

export type OpenedChat =
  | { kind: 'message'; message: InboundMessage }
  /** Not a text message (a reaction, an edit, a read receipt…): nothing for 4biz. */
  | { kind: 'ignored'; eventType: string }
  | { kind: 'refused'; reason: 'unverified' | 'undecryptable' | 'mismatch'; detail: string };

const isParticipant = (conversationId: string, userId: string) => conversationId.split(/[:-]/).includes(userId);

/** What opening an XChat message needs. */
export interface XChatDeps {
  crypto: XChatCrypto;
  keys: ConversationKeyStore;
  publicKeys: PublicKeySource;
  keyEvents: ConversationKeyEvents;
}

/**
 * Opens an encrypted chat message. Refusals (`refused`) are the message's fault and final; I/O
 * failures (X's public keys or key events, the key store) throw and are retried like any delivery.
 */
export async function openChatMessage(queued: EncryptedChatMessage, deps: XChatDeps): Promise<OpenedChat> {
  const chat = queued.xchat;
  if (!isParticipant(chat.conversationId, chat.accountId) || !isParticipant(chat.conversationId, chat.senderId)) {
    return { kind: 'refused', reason: 'mismatch', detail: 'the conversation is not between the sender and the company' };
  }
  const attempt = async (fresh: boolean, fromX: string[]) => {
    const signingKeys = await deps.publicKeys.signingKeys(chat.senderId, { fresh });
    let keys = await deps.keys.get(chat.conversationId);
    const keyChanges = [...chat.keyChangeEvents, ...fromX];
    if (keyChanges.length > 0) {
      // A key change in X's history may be the company's own (one of its XChat apps rotated the key).
      const signers = fromX.length > 0 ? [...signingKeys, ...(await deps.publicKeys.signingKeys(chat.accountId, { fresh }))] : signingKeys;
      const changed = deps.crypto.conversationKeys(keyChanges, signers);
      const added = Object.fromEntries(Object.entries(changed.keys).filter(([version]) => !(version in keys)));
      if (Object.keys(added).length > 0) await deps.keys.add(chat.conversationId, added);
      keys = { ...keys, ...changed.keys };
    }
    return deps.crypto.decrypt(chat.encodedEvent, keys, signingKeys);
  };
  let event: DecryptedChatEvent;
  try {
    event = await attempt(false, []);
  } catch (err) {
    if (!(err instanceof XChatRefusedError)) throw err;
    // A key X did not send with the message (nor before): its key changes come from the conversation's events.
    const fromX = err.missingKey ? await deps.keyEvents.keyChangeEvents(chat.conversationId) : [];
    // The sender may have new keys since they were cached: one more try with X's current ones.
    try {
      event = await attempt(true, fromX);
    } catch (again) {
      if (again instanceof XChatRefusedError) return { kind: 'refused', reason: again.reason, detail: again.message };
      throw again;
    }
  }
  return inboundFromEvent(event, queued);
}

function inboundFromEvent(event: DecryptedChatEvent, queued: EncryptedChatMessage): OpenedChat {
  const chat = queued.xchat;
  if (!event.verified) return { kind: 'refused', reason: 'unverified', detail: 'the event carries no verified signature' };
  if (event.senderId !== chat.senderId || event.conversationId !== chat.conversationId) {
    return { kind: 'refused', reason: 'mismatch', detail: 'the signed event names another sender or conversation than X\'s delivery' };
  }
  if (event.type !== 'message' || event.text === undefined) return { kind: 'ignored', eventType: event.type };
  const sequenceId = dmEventIdSchema.safeParse(event.sequenceId);
  if (!sequenceId.success || !event.messageId || event.createdAtMsec === undefined) {
    return { kind: 'refused', reason: 'mismatch', detail: 'the event has no decimal sequence id, message id or time' };
  }
  const created = String(event.createdAtMsec);
  const raw = {
    type: 'message_create',
    id: sequenceId.data,
    created_timestamp: created,
    message_create: { sender_id: chat.senderId, target: { recipient_id: chat.accountId }, message_data: { text: event.text } },
  };
  return {
    kind: 'message',
    message: {
      eventId: sequenceId.data,
      createdTimestamp: created,
      createdAt: new Date(event.createdAtMsec).toISOString(),
      receivedAt: chat.receivedAt,
      forUserId: chat.accountId,
      sender: { id: chat.senderId },
      recipientId: chat.accountId,
      text: event.text,
      // Named for the agent (tickets mode lists them), without a link: XChat media stays encrypted at X (docs/xchat.md).
      attachments: event.attachments.map((kind) => ({ type: 'xchat', mediaType: kind })),
      raw: { event: raw, users: { [chat.senderId]: { ...minimalV1User(chat.senderId) } } },
      xchat: { conversationId: chat.conversationId, messageId: event.messageId, conversationToken: chat.conversationToken },
    },
  };
}

