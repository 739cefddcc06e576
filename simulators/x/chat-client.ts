import type { AttachmentDescriptor } from '@xdevplatform/chat-xdk';
import { newXChatEngine, type XChatEngine } from '../../functions/adapters/xchat-engine';

/**
 * A person's XChat client, for the X simulator and the tests: real chat-xdk keys and cryptography,
 * plus the one thing X's backend does that chat-xdk does not ship — framing a sent message or key
 * change into the Thrift `MessageEvent` X stores and delivers (`encoded_event`). The layout (field
 * ids) is the one chat-xdk's own test vectors use (its `internals::frame_event`): 1 sequence id,
 * 2 message id, 3 sender id, 4 conversation id, 6 created-at ms, 7 detail (union: 1 message
 * create, 3 conversation key change), 9 signature (1 signature, 2 key version, 3 signature version).
 */

/** A public key as X's `GET /2/users/:id/public_keys` answers it. */
export interface XPublicKey {
  public_key: string;
  signing_public_key: string;
  identity_public_key_signature: string;
  public_key_version: string;
}

interface Signature {
  signature: string;
  publicKeyVersion: string;
  signatureVersion: string;
}

const T_STRUCT = 12;
const T_STRING = 11;
const STOP = Buffer.from([0]);

function field(type: number, id: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, id >> 8, id & 0xff]), body]);
}

function stringField(id: number, value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(4);
  length.writeInt32BE(bytes.length);
  return field(T_STRING, id, Buffer.concat([length, bytes]));
}

/** The `MessageEvent` X delivers, base64. `detail` is a serialised MessageEventDetail (with its stop byte). */
export function frameMessageEvent(e: {
  sequenceId: string;
  messageId: string;
  senderId: string;
  conversationId: string;
  createdAtMsec: number;
  detail: Buffer;
  /** The signature's fields, or the serialised MessageEventSignature a client sent (`encoded_message_event_signature`). */
  signature: Signature | Buffer;
}): string {
  const signature = Buffer.isBuffer(e.signature)
    ? e.signature
    : Buffer.concat([stringField(1, e.signature.signature), stringField(2, e.signature.publicKeyVersion), stringField(3, e.signature.signatureVersion), STOP]);
  return Buffer.concat([
    stringField(1, e.sequenceId),
    stringField(2, e.messageId),
    stringField(3, e.senderId),
    stringField(4, e.conversationId),
    stringField(6, String(e.createdAtMsec)),
    field(T_STRUCT, 7, e.detail),
    field(T_STRUCT, 9, signature),
    STOP,
  ]).toString('base64');
}

/** A sent message's MessageCreateEvent (chat-xdk's `encryptedContent`) as the detail union's member 1. */
export function messageCreateDetail(encryptedContent: string): Buffer {
  return Buffer.concat([field(T_STRUCT, 1, Buffer.from(encryptedContent, 'base64')), STOP]);
}

/** What X stores for `POST /2/chat/conversations/:id/messages`: the sent message framed as an event. */
export function frameSentMessage(m: { senderId: string; conversationId: string; messageId: string; encodedMessageCreateEvent: string; encodedMessageEventSignature: string; createdAtMsec?: number; sequenceId?: string }): string {
  return frameMessageEvent({
    sequenceId: m.sequenceId ?? nextSequenceId(),
    messageId: m.messageId,
    senderId: m.senderId,
    conversationId: m.conversationId,
    createdAtMsec: m.createdAtMsec ?? Date.now(),
    detail: messageCreateDetail(m.encodedMessageCreateEvent),
    signature: Buffer.from(m.encodedMessageEventSignature, 'base64'),
  });
}

/** chat-xdk's signing-key entry for a user's X public key. */
export function signingKeyEntry(userId: string, key: XPublicKey) {
  return {
    userId,
    publicKeyVersion: key.public_key_version,
    publicKey: key.signing_public_key,
    identityPublicKey: key.public_key,
    identityPublicKeySignature: key.identity_public_key_signature,
  };
}

let sequence = 2_080_400_825_227_100_160n;
/** X's sequence ids: increasing snowflakes. */
export const nextSequenceId = () => String(++sequence);

/** One X user with XChat keys: writes encrypted messages and reads the answers. */
export class XChatPerson {
  readonly engine: XChatEngine;
  readonly publicKey: XPublicKey;
  private conversationKey?: { key: Uint8Array; version: string };
  /** Every conversation key this client made, by version (answers may come under an older one). */
  private readonly keys: Record<string, Uint8Array> = {};

  constructor(readonly userId: string, keyVersion: string) {
    this.engine = newXChatEngine();
    const registration = this.engine.generateKeypairs().publicKey;
    this.publicKey = {
      public_key: registration.publicKey,
      signing_public_key: registration.signingPublicKey,
      identity_public_key_signature: registration.identityPublicKeySignature,
      public_key_version: keyVersion,
    };
    this.engine.setIdentity(userId, keyVersion);
  }

  /** The private keys as a key blob (what Juicebox stores; what `npm run x -- xchat-keys` reads). */
  keyBlob(): string {
    return Buffer.from(this.engine.exportKeys()).toString('base64');
  }

  /**
   * A new conversation key for the conversation with `other` (the first message, or a rotation):
   * the signed key-change event X delivers to both, framed.
   */
  changeConversationKey(other: { userId: string; publicKey: XPublicKey }, createdAtMsec = Date.now()): { conversationId: string; keyChangeEvent: string; version: string } {
    const prepared = this.engine.prepareConversationKeyChange({
      publicKeys: [
        { userId: this.userId, publicKey: this.publicKey.public_key, keyVersion: this.publicKey.public_key_version },
        { userId: other.userId, publicKey: other.publicKey.public_key, keyVersion: other.publicKey.public_key_version },
      ],
    });
    this.conversationKey = { key: prepared.conversationKey, version: prepared.conversationKeyVersion };
    this.keys[prepared.conversationKeyVersion] = prepared.conversationKey;
    const action = prepared.actionSignatures[0];
    const keyChangeEvent = frameMessageEvent({
      sequenceId: nextSequenceId(),
      messageId: action.messageId,
      senderId: this.userId,
      conversationId: prepared.conversationId,
      createdAtMsec,
      detail: Buffer.from(action.encodedMessageEventDetail, 'base64'),
      signature: action,
    });
    return { conversationId: prepared.conversationId, keyChangeEvent, version: prepared.conversationKeyVersion };
  }

  /** Takes over another client's conversation keys (a forger who stole them, in the tests). */
  adoptConversationKeysOf(other: XChatPerson): void {
    this.conversationKey = other.conversationKey;
    Object.assign(this.keys, other.keys);
  }

  /** Decrypts and verifies an event of the conversation (e.g. the company's answer); chat-xdk throws when it does not verify. */
  read(encodedEvent: string, signingKeys: ReturnType<typeof signingKeyEntry>[]) {
    return this.engine.decryptEvent(encodedEvent, this.keys, signingKeys);
  }

  /** An encrypted, signed message in the conversation (with attachment descriptors, e.g. a photo), framed as X delivers it. */
  write(conversationId: string, text: string, createdAtMsec = Date.now(), attachments?: AttachmentDescriptor[]): { messageId: string; sequenceId: string; encodedEvent: string; signature: Signature } {
    if (!this.conversationKey) throw new Error('no conversation key yet: changeConversationKey first');
    const sent = this.engine.encryptMessage({ conversationId, text, attachments, conversationKey: this.conversationKey.key, conversationKeyVersion: this.conversationKey.version });
    const signature = { signature: sent.signature, ...sent.signatureInfo };
    const sequenceId = nextSequenceId();
    const encodedEvent = frameMessageEvent({ sequenceId, messageId: sent.messageId, senderId: this.userId, conversationId, createdAtMsec, detail: messageCreateDetail(sent.encryptedContent), signature });
    return { messageId: sent.messageId, sequenceId, encodedEvent, signature };
  }
}
