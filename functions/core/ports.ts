import type { Conversation } from './conversation';
import type { OutboundMessage } from './outbound-message';
import type { WebhookHealthState } from './webhook-health';
import type { InboundMessage } from './x-events';
import type { ReplayWindow, XActivitySubscription, XWebhook } from './x-webhook-api';

/**
 * The contracts the core needs from the outside world. Adapters under functions/adapters/
 * implement them (DynamoDB, SQS, 4biz, X); tests pass in-memory ones.
 */

/** Conversation state and processed-event records (DynamoDB, one table; tests also run it against DynamoDB Local). */
export interface ConversationStore {
  get(xUserId: string): Promise<Conversation | undefined>;
  /**
   * Writes the conversation with optimistic locking: `expectedVersion` undefined means it must not
   * exist yet; otherwise the stored version must equal it. Stores `version = expectedVersion + 1`
   * (or 1). Throws ConflictError when the condition fails.
   */
  save(conversation: Conversation, expectedVersion: number | undefined): Promise<Conversation>;
  /** Open conversations (tickets mode poller). */
  listOpen(): Promise<Conversation[]>;
  /** True when the event was already delivered (idempotency beyond SQS's 5-minute window). */
  isProcessed(eventId: string): Promise<boolean>;
  /** Records a delivered event (TTL 7 days). */
  markProcessed(eventId: string, xUserId: string): Promise<void>;
  /**
   * save() and markProcessed() in one transaction, so a delivered event is never recorded without
   * the conversation update that goes with it (or the other way round). ConflictError as save().
   */
  saveDelivered(conversation: Conversation, expectedVersion: number | undefined, eventId: string): Promise<Conversation>;
}

/** What 4biz gave back for a delivered inbound message (tickets mode: the request it lives on). */
export interface DeliveryResult {
  requestNumber?: string;
}

/**
 * The way into 4biz, one implementation per `fourbiz.mode`: `relay` re-signs and POSTs the DM to
 * the Omnichannel interaction's callback URL; `tickets` uses 4biz's REST API. Implementations
 * throw PermanentError (never retry: to the DLQ) or TransientError (retry with back-off).
 */
export interface FourBizClient {
  readonly mode: 'relay' | 'tickets';
  deliver(message: InboundMessage, conversation: Conversation): Promise<DeliveryResult>;
}

/** Sends inbound messages to the FIFO queue; resolves only when every message was accepted. */
export interface InboundQueue {
  send(messages: InboundMessage[]): Promise<void>;
}

/** The outbound FIFO queue: the poller sends replies to it, the sender delays the ones X throttles. */
export interface OutboundQueue {
  /** Resolves only when every message was accepted, in order. */
  send(messages: OutboundMessage[]): Promise<void>;
  /** Keeps a received message invisible for `seconds` more (e.g. until X's rate-limit reset). */
  delay(receiptHandle: string, seconds: number): Promise<void>;
}

/** Sends DMs as the company's X account (twitter-api-v2, OAuth 1.0a user context). */
export interface XClient {
  /** Resolves with the DM event id X assigned. */
  sendDm(participantId: string, text: string): Promise<{ dmEventId?: string }>;
}

/** X's answer to a replay request. */
interface ReplayJob {
  jobId: string;
  createdAt: string;
}

/** The part of X's API the CLI and the webhook-health function use. */
export interface XWebhookApi {
  listWebhooks(): Promise<XWebhook[]>;
  createWebhook(url: string): Promise<XWebhook>;
  /** Asks X to run the CRC check again (PUT /2/webhooks/:id); resolves with X's `valid` verdict. */
  validateWebhook(id: string): Promise<boolean>;
  /** Resolves with X's `deleted` flag. */
  deleteWebhook(id: string): Promise<boolean>;
  /** Account Activity API: subscribes the access token's account (user context). */
  subscribe(webhookId: string): Promise<boolean>;
  listSubscriptions(webhookId: string): Promise<string[]>;
  /** Account Activity API: removes the user's subscription (app bearer token). */
  unsubscribe(webhookId: string, userId: string): Promise<void>;
  /** X Activity API: POST /2/activity/subscriptions with the account's user context. */
  createActivitySubscription(request: { eventType: string; userId?: string; webhookId: string; tag: string }): Promise<XActivitySubscription>;
  listActivitySubscriptions(): Promise<XActivitySubscription[]>;
  deleteActivitySubscription(id: string): Promise<void>;
  /** POST /2/webhooks/replay: X re-delivers the window's events (minutes, both ends inclusive). */
  replay(webhookId: string, window: ReplayWindow): Promise<ReplayJob>;
}

/** Where the webhook-health state lives between runs (the conversation table, its own key). */
export interface WebhookHealthStore {
  get(): Promise<WebhookHealthState | undefined>;
  put(state: WebhookHealthState): Promise<void>;
}
