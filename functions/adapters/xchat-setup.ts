import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfigurationError } from '../core/errors';
import { z } from 'zod';
import type { ConversationKeyEvents, ConversationKeyStore, PublicKeySource, XChatReplier } from '../core/xchat';
import type { SecretSource } from './secrets';
import { createXChatCrypto, type XChatCompanyCrypto, type XChatIdentity } from './xchat-crypto';
import { dynamoConversationKeyStore, dynamoXChatOutbox, kmsKeyWrap, localKeyWrap, xPublicKeySource, type KeyWrap, type XChatOutbox } from './xchat-keys';
import { companyXApi } from './x-client';

export interface XChatSetup {
  crypto: XChatCompanyCrypto;
  keys: ConversationKeyStore;
  publicKeys: PublicKeySource;
  keyEvents: ConversationKeyEvents;
  /** The company's X client (the chat routes). */
  x: ReturnType<typeof companyXApi>;
  outbox: XChatOutbox;
}

export interface XChatSetupConfig {
  tableName: string;
  xAccountId?: string;
  /** The tenant's KMS key; absent in local mode (a key derived from the key blob wraps instead). */
  xchatKeyArn?: string;
  xApiBaseUrl?: string;
}

/**
 * Everything the dispatcher and the sender need for XChat, built on first use: chat-xdk (and its
 * WASM) loads only when a function meets its first XChat message.
 */
export function xchatSetup(config: XChatSetupConfig, secrets: SecretSource, clients: { doc?: DynamoDBDocumentClient; kms?: KMSClient } = {}): () => Promise<XChatSetup> {
  const x = companyXApi(secrets, { baseUrl: config.xApiBaseUrl });
  const publicKeys = xPublicKeySource(x);
  const keyEvents = xConversationKeyEvents(x);
  const identity = async (): Promise<XChatIdentity> => {
    const keys = (await secrets.get()).xchat;
    if (!keys) throw new ConfigurationError('the tenant secret has no XChat keys: put them there with `npm run x -- xchat-keys --tenant NAME` (docs/xchat.md)');
    if (!config.xAccountId) throw new ConfigurationError('XChat needs the company\'s X account id (X_ACCOUNT_ID)');
    return { userId: config.xAccountId, keyBlob: keys.keyBlob, publicKeyVersion: keys.publicKeyVersion };
  };
  const crypto = createXChatCrypto(identity);
  let wrap: KeyWrap | undefined;
  return async () => {
    const loaded = await crypto();
    wrap ??= config.xchatKeyArn ? kmsKeyWrap(clients.kms ?? new KMSClient({}), config.xchatKeyArn) : localKeyWrap((await identity()).keyBlob);
    const doc = clients.doc ?? DynamoDBDocumentClient.from(new DynamoDBClient({}));
    return { crypto: loaded, keys: dynamoConversationKeyStore(doc, config.tableName, wrap), publicKeys, keyEvents, x, outbox: dynamoXChatOutbox(doc, config.tableName) };
  };
}

/** The path id of a conversation in X's chat routes: one-to-one ids take a dash (`A-B`), events name them `A:B`. */
const chatPathId = (conversationId: string) => conversationId.replace(':', '-');

/** How many events one read asks for (X's maximum); the key changes come with them in `meta`. */
const KEY_EVENTS_PAGE = 100;
const keyEventsSchema = z.object({ meta: z.object({ conversation_key_events: z.array(z.unknown()).max(1_000).optional() }).passthrough().optional() }).passthrough();

/**
 * A conversation's key changes from X (`GET /2/chat/conversations/:id/events`): one page of its
 * newest events, whose `meta.conversation_key_events` carries the key changes they need (chat-xdk's
 * own examples read them there). Entries that are not event strings are skipped; chat-xdk verifies
 * each key change's signature before its key is used.
 */
function xConversationKeyEvents(x: ReturnType<typeof companyXApi>): ConversationKeyEvents {
  return {
    async keyChangeEvents(conversationId) {
      const out: unknown = await x.call((api) => api.v2.get(`chat/conversations/${chatPathId(conversationId)}/events`, { max_results: KEY_EVENTS_PAGE }));
      const events = keyEventsSchema.safeParse(out).data?.meta?.conversation_key_events ?? [];
      return events.filter((e): e is string => typeof e === 'string' && e.length > 0 && e.length <= 200_000).slice(0, KEY_EVENTS_PAGE);
    },
  };
}

/** Answers into XChat conversations: encrypted once per part (kept in the outbox), then posted, retried like any send. */
export function xchatReplier(setup: () => Promise<XChatSetup>): XChatReplier {
  return {
    async sendReply({ conversationId, text, outboxId, replyTo }) {
      const s = await setup();
      let reply = await s.outbox.get(outboxId);
      if (!reply) {
        reply = s.crypto.encryptReply({ conversationId, text, replyTo, keys: await s.keys.get(conversationId) });
        await s.outbox.put(outboxId, reply);
      }
      const body = { message_id: reply.messageId, encoded_message_create_event: reply.encodedMessageCreateEvent, encoded_message_event_signature: reply.encodedMessageEventSignature };
      await s.x.call((api) => api.v2.post(`chat/conversations/${chatPathId(conversationId)}/messages`, body));
    },
  };
}
