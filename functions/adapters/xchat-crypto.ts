import { XChatRefusedError, type ConversationKeys, type DecryptedChatEvent, type SigningKey, type XChatCrypto, type XChatReply } from '../core/xchat';
import { newXChatEngine, type XChatEngine } from './xchat-engine';

/** The company's XChat identity: its X account and the key blob of the tenant secret. */
export interface XChatIdentity {
  userId: string;
  /** The private keys, base64 (the bytes chat-xdk exports and Juicebox stores). Never logged. */
  keyBlob: string;
  /** The version X registered the keys under (`public_key_version`). */
  publicKeyVersion: string;
}

/** An encrypted answer, ready for `POST /2/chat/conversations/:id/messages`. */
interface EncryptedReply {
  messageId: string;
  encodedMessageCreateEvent: string;
  encodedMessageEventSignature: string;
}

export interface XChatCompanyCrypto extends XChatCrypto {
  /** Encrypts and signs an answer under the conversation's latest key. */
  encryptReply(request: Omit<XChatReply, 'outboxId'> & { keys: ConversationKeys }): EncryptedReply;
}

/** At most this many attachments of one message are named (chat-xdk's clients send a handful). */
const MAX_ATTACHMENTS = 10;

/** What an attachment is ("image", "video", "url", "post"…), for the log line and the 4biz agent; never its content. */
function attachmentKind(a: unknown): string {
  const info = (a ?? {}) as Record<string, unknown>;
  // chat-xdk 0.4.3 names the type `attachment_type` on events (its typings say `attachmentType`): both read.
  const kind = info.mediaType ?? info.attachment_type ?? info.attachmentType;
  return typeof kind === 'string' && /^[\w./+-]{1,40}$/.test(kind) ? kind : 'attachment';
}

/** Key versions in order: they are timestamps/snowflakes (decimal strings), compared as numbers. */
export const byVersion = (a: string, b: string): number => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/** Newest key version. */
function latestVersion(keys: ConversationKeys): string | undefined {
  return Object.keys(keys).sort(byVersion).at(-1);
}

/**
 * chat-xdk with the company's keys. The engine (and its WASM) is created on first use, so a
 * function that never sees an XChat message never loads it. A refusal names its cause without
 * content (chat-xdk's messages name fields and versions, never text).
 */
export function createXChatCrypto(identity: () => Promise<XChatIdentity> | XChatIdentity): (() => Promise<XChatCompanyCrypto>) {
  let engine: XChatEngine | undefined;
  let forBlob: string | undefined;
  const crypto: XChatCompanyCrypto = {
    conversationKeys(events, signingKeys) {
      const out = engine!.decryptEvents(events, signingKeys);
      return { keys: out.conversationKeys.keys, refused: Object.keys(out.errors).length };
    },
    decrypt(encodedEvent, keys, signingKeys: SigningKey[]): DecryptedChatEvent {
      let event;
      try {
        event = engine!.decryptEvent(encodedEvent, keys, signingKeys);
      } catch (err) {
        const message = String((err as Error)?.message ?? err).slice(0, 300);
        // chat-xdk 0.4.3 words a key it was not given "… key version '…' but no matching key found" (test/unit/xchat.test.ts).
        throw new XChatRefusedError(/signature/i.test(message) ? 'unverified' : 'undecryptable', message, /no matching key found/i.test(message));
      }
      const text = event.content?.text;
      return {
        type: event.type,
        sequenceId: event.sequenceId,
        messageId: event.id,
        senderId: event.senderId,
        conversationId: event.conversationId,
        createdAtMsec: event.createdAtMsec,
        verified: event.verified === true,
        text: typeof text === 'string' ? text : undefined,
        attachments: (Array.isArray(event.attachments) ? event.attachments : []).slice(0, MAX_ATTACHMENTS).map(attachmentKind),
      };
    },
    encryptReply({ conversationId, text, keys, replyTo }) {
      const version = latestVersion(keys);
      if (!version) throw new XChatRefusedError('undecryptable', `no conversation key stored for ${conversationId}`);
      const sent = engine!.encryptReply({ conversationId, text, conversationKey: keys[version], conversationKeyVersion: version, replyToSequenceId: replyTo.sequenceId, replyToSenderId: replyTo.senderId });
      return { messageId: sent.messageId, encodedMessageCreateEvent: sent.encryptedContent, encodedMessageEventSignature: sent.encodedEventSignature };
    },
  };
  return async () => {
    const id = await identity();
    if (!engine || forBlob !== id.keyBlob) {
      engine?.free();
      engine = newXChatEngine();
      engine.importKeys(Buffer.from(id.keyBlob, 'base64'), id.publicKeyVersion);
      engine.setIdentity(id.userId, id.publicKeyVersion);
      forBlob = id.keyBlob;
    }
    return crypto;
  };
}
