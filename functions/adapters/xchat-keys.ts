import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { ConversationKeyStore, ConversationKeys, PublicKeySource, SigningKey } from '../core/xchat';
import { TableLayout } from './conversation-table';
import type { companyXApi } from './x-client';

/** Wraps conversation keys for the table: KMS deployed, a local key in `npm start` and tests. */
export interface KeyWrap {
  wrap(key: Uint8Array, conversationId: string): Promise<string>;
  unwrap(wrapped: string, conversationId: string): Promise<Uint8Array>;
}

/**
 * The tenant's KMS key; the conversation id is the encryption context, so a wrapped key copied to
 * another conversation's item does not decrypt.
 */
export function kmsKeyWrap(client: KMSClient, keyId: string): KeyWrap {
  const context = (conversationId: string) => ({ purpose: 'xchat-conversation-key', conversationId });
  return {
    async wrap(key, conversationId) {
      const out = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: key, EncryptionContext: context(conversationId) }));
      return Buffer.from(out.CiphertextBlob!).toString('base64');
    },
    async unwrap(wrapped, conversationId) {
      const out = await client.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: Buffer.from(wrapped, 'base64'), EncryptionContext: context(conversationId) }));
      return new Uint8Array(out.Plaintext!);
    },
  };
}

/** Local mode (no KMS): AES-256-GCM under a key derived from the company's key blob. */
export function localKeyWrap(keyBlob: string): KeyWrap {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(keyBlob, 'base64'), Buffer.alloc(0), 'xchat-conversation-key-wrap', 32));
  return {
    async wrap(plain, conversationId) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(conversationId));
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    async unwrap(wrapped, conversationId) {
      const bytes = Buffer.from(wrapped, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12)).setAAD(Buffer.from(conversationId));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return new Uint8Array(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]));
    },
  };
}

const storedKeysSchema = z.record(z.string().regex(/^\d{1,32}$/), z.string().min(1));

/** Conversation keys in the conversation table (`pk=XCHAT#<conversation id>`), each version wrapped. */
export function dynamoConversationKeyStore(doc: DynamoDBDocumentClient, tableName: string, wrap: KeyWrap): ConversationKeyStore {
  const Key = (conversationId: string) => ({ [TableLayout.partitionKey]: TableLayout.xchatKeysKey(conversationId) });
  return {
    async get(conversationId) {
      const out = await doc.send(new GetCommand({ TableName: tableName, Key: Key(conversationId), ConsistentRead: true }));
      const stored = storedKeysSchema.safeParse(out.Item?.keys ?? {});
      if (!stored.success) throw new Error(`stored XChat keys of ${conversationId} are malformed`);
      const keys: ConversationKeys = {};
      for (const [version, wrapped] of Object.entries(stored.data)) keys[version] = await wrap.unwrap(wrapped, conversationId);
      return keys;
    },
    async add(conversationId, keys) {
      // The map first (if absent), then each version once: a concurrent writer keeps its own.
      await doc.send(new UpdateCommand({ TableName: tableName, Key: Key(conversationId), UpdateExpression: 'SET #k = if_not_exists(#k, :empty)', ExpressionAttributeNames: { '#k': 'keys' }, ExpressionAttributeValues: { ':empty': {} } }));
      for (const [version, key] of Object.entries(keys)) {
        await doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: Key(conversationId),
            UpdateExpression: 'SET #k.#v = if_not_exists(#k.#v, :w)',
            ExpressionAttributeNames: { '#k': 'keys', '#v': version },
            ExpressionAttributeValues: { ':w': await wrap.wrap(key, conversationId) },
          }),
        );
      }
    },
  };
}

/** X's answer to `GET /2/users/:id/public_keys`; entries without the fields chat-xdk needs are skipped. */
const publicKeysSchema = z.object({ data: z.array(z.unknown()).max(100).default([]) }).passthrough();
const publicKeySchema = z.object({
  public_key: z.string().min(1).max(1_000),
  signing_public_key: z.string().min(1).max(1_000),
  identity_public_key_signature: z.string().min(1).max(1_000),
  public_key_version: z.string().min(1).max(40),
});

const PUBLIC_KEY_FIELDS = 'public_key,signing_public_key,identity_public_key_signature,public_key_version';

/** X's public keys of a user, cached per container for `ttlMs` (a refusal asks for fresh ones). */
export function xPublicKeySource(x: ReturnType<typeof companyXApi>, options: { ttlMs?: number; now?: () => number } = {}): PublicKeySource {
  const ttlMs = options.ttlMs ?? 15 * 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; keys: SigningKey[] }>();
  return {
    async signingKeys(userId, { fresh = false } = {}) {
      const hit = cache.get(userId);
      if (hit && !fresh && now() - hit.at < ttlMs) return hit.keys;
      const out: unknown = await x.call((api) => api.v2.get(`users/${userId}/public_keys`, { 'public_key.fields': PUBLIC_KEY_FIELDS }));
      const entries = publicKeysSchema.safeParse(out).data?.data ?? [];
      const keys = entries.flatMap((e) => {
        const k = publicKeySchema.safeParse(e);
        return k.success
          ? [{ userId, publicKeyVersion: k.data.public_key_version, publicKey: k.data.signing_public_key, identityPublicKey: k.data.public_key, identityPublicKeySignature: k.data.identity_public_key_signature }]
          : [];
      });
      cache.set(userId, { at: now(), keys });
      return keys;
    },
  };
}

const outboxSchema = z.object({ messageId: z.string().min(1), encodedMessageCreateEvent: z.string().min(1), encodedMessageEventSignature: z.string().min(1) });
export type OutboxEntry = z.infer<typeof outboxSchema>;

/** How long an encrypted answer is kept for its retries: the outbound queue's 14-day retention. */
const OUTBOX_LIFETIME_SECONDS = 14 * 24 * 3600;

/**
 * Encrypted answers waiting to be sent (`pk=XCHATOUT#<outbox id>`, TTL'd): encrypted once, so every
 * retry sends the same signed message id (chat-xdk's advice) and X can recognise a repeat.
 * Ciphertext only: nothing here is readable without the conversation key.
 */
export function dynamoXChatOutbox(doc: DynamoDBDocumentClient, tableName: string, now: () => number = Date.now) {
  const Key = (id: string) => ({ [TableLayout.partitionKey]: TableLayout.xchatOutboxKey(id) });
  return {
    async get(id: string): Promise<OutboxEntry | undefined> {
      const out = await doc.send(new GetCommand({ TableName: tableName, Key: Key(id), ConsistentRead: true }));
      return outboxSchema.safeParse(out.Item?.reply).data;
    },
    async put(id: string, reply: OutboxEntry): Promise<void> {
      const expiresAt = Math.floor(now() / 1000) + OUTBOX_LIFETIME_SECONDS;
      await doc.send(new PutCommand({ TableName: tableName, Item: { ...Key(id), reply, [TableLayout.ttlAttribute]: expiresAt } }));
    },
  };
}
export type XChatOutbox = ReturnType<typeof dynamoXChatOutbox>;
