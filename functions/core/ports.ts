import type { Conversation } from './conversation';
import type { OutboundMessage } from './outbound-message';
import type { Refusals, WebhookHealthState } from './webhook-health-state';
import type { DmPollState } from './dm-poll-state';
import type { PollMarks } from './poll-schedule';
import type { InboundMessage } from './x-events';
import type { EncryptedChatMessage } from './xchat';
import type { ProcessedKey } from './processed-key';
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
  /** True when the event was already delivered / the reply already sent (idempotency beyond SQS's 5-minute window). */
  isProcessed(key: ProcessedKey): Promise<boolean>;
  /** Records a delivered event or sent reply (kept PROCESSED_EVENT_LIFETIME_SECONDS). */
  markProcessed(key: ProcessedKey, xUserId: string): Promise<void>;
  /**
   * Counts one more failed attempt of that message and returns how many there were: the failure
   * policy's input (kept as long as the processed records).
   */
  countAttempt(key: ProcessedKey): Promise<number>;
  /** Starts that message's count again: once it is in the DLQ, a redrive gives it all its attempts anew. */
  resetAttempts(key: ProcessedKey): Promise<void>;
  /**
   * save() and markProcessed() in one transaction, so a delivered event is never recorded without
   * the conversation update that goes with it (or the other way round). ConflictError as save().
   */
  saveDelivered(conversation: Conversation, expectedVersion: number | undefined, key: ProcessedKey): Promise<Conversation>;
}

/** What 4biz gave back for a delivered inbound message (tickets mode: the request it lives on). */
export interface DeliveryResult {
  requestNumber?: string;
  /** tickets mode: media that stayed a link in the text (download or attachment failed), and why. */
  mediaFailures?: string[];
}

/** What the caller knows about earlier attempts of this delivery. */
export interface DeliveryContext {
  /** An earlier attempt may have reached 4biz (the message was received before): look before writing again. */
  retried: boolean;
}

/**
 * The way into 4biz, one implementation per `fourbiz.mode`: `relay` re-signs and POSTs the DM to
 * the Omnichannel interaction's callback URL; `tickets` uses 4biz's REST API. Implementations
 * throw PermanentError (never retry: to the DLQ) or TransientError (retry with back-off).
 */
export interface FourbizClient {
  readonly mode: 'relay' | 'tickets';
  deliver(message: InboundMessage, conversation: Conversation, context?: DeliveryContext): Promise<DeliveryResult>;
}

/** A 4biz request as the tickets-mode poller reads it. */
export interface FourbizRequest {
  number: string;
  /** The status name as agents see it (e.g. Resolvida). */
  status: string;
  solution?: string;
  /** Resolvida, Fechada or Cancelada: the conversation ends. */
  finished: boolean;
}

/** An occurrence of a 4biz request (its 4biz number as `id`). */
export interface FourbizOccurrence {
  id: string;
  numberOrigin?: string;
  description: string;
  /** Written by the bridge itself (the person's own DMs): never sent back to them. */
  byIntegrationUser: boolean;
  /** 4biz's occurrence category (e.g. Acompanhamento, Diagnostico); absent when 4biz sent none. */
  category?: string;
}

/** Sends inbound messages to the FIFO queue; resolves only when every message was accepted. */
export interface InboundQueue {
  send(messages: InboundMessage[]): Promise<void>;
}

/**
 * Where the webhook keeps inbound messages the queue refused, durably, until an operator requeues
 * them (`npm run dlq -- parked --requeue`). Parking a message again is a no-op.
 */
export interface InboundParking {
  /** Resolves with how many were parked now (not already); throws when any could not be kept. */
  park(messages: InboundMessage[]): Promise<number>;
}

/** XChat: queues a message still encrypted (core/xchat.ts) on the inbound queue, in the person's order. */
export interface ChatQueue {
  sendChat(message: EncryptedChatMessage): Promise<void>;
}

/** The outbound FIFO queue: the poller sends replies to it (the sender controls it through QueueControl). */
export interface OutboundQueue {
  /** Resolves only when every message was accepted, in order. */
  send(messages: OutboundMessage[]): Promise<void>;
}

/**
 * A queue consumer's say over a received message: when it comes back, or that it goes to the DLQ
 * now. The one queue-control port of both consumers (dispatcher: inbound queue, sender: outbound
 * queue); processFifoBatch applies the failure policy's decisions through it.
 */
export interface QueueControl {
  /** The message becomes visible again after `seconds` (back-off between attempts). */
  retryIn(receiptHandle: string, seconds: number): Promise<void>;
  /** Copies the message to the DLQ with the reason; the caller then acknowledges the original. */
  deadLetter(message: DeadLetter): Promise<void>;
}

export interface DeadLetter {
  messageId: string;
  body: string;
  groupId?: string;
  reason: string;
}

/** Sends DMs as the company's X account (twitter-api-v2, the tenant's user context). */
export interface XClient {
  /** Resolves with the DM event id X assigned. */
  sendDm(participantId: string, text: string): Promise<{ dmEventId?: string }>;
  /**
   * One look at the conversation's latest events (a few, each billed): the DM the account sent
   * with this text at or after `sinceMs`, or undefined. Used before repeating a send whose earlier
   * attempt may have been stored.
   */
  findSentDm(participantId: string, text: string, sinceMs?: number): Promise<{ dmEventId: string } | undefined>;
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
  /** The signed deliveries the webhook refused since the last run took them into its gap. */
  refusals(): Promise<Refusals | undefined>;
  /** Forgets the refusals read, unless the webhook refused another delivery since. */
  clearRefusals(read: Refusals): Promise<void>;
}

/** The webhook refused a signed delivery (X does not send it again): recorded for webhook health to replay. */
export interface RefusedDeliveryLog {
  record(atMs: number): Promise<void>;
}

/** Polling mode: the poller's state (cursor, resume points), kept in the conversation table. */
export interface DmPollStateStore {
  load(): Promise<DmPollState | undefined>;
  save(state: DmPollState): Promise<void>;
}

/** Tickets mode: when the poller last polled each open conversation (core/poll-schedule). */
export interface PollMarksStore {
  load(): Promise<PollMarks>;
  save(marks: PollMarks): Promise<void>;
}

/** Polling mode: one page of X's DM lookup as X answered it (JSON); errors are Transient/Permanent as X's status says. */
export interface DmEventsSource {
  page(paginationToken: string | undefined, maxResults: number): Promise<unknown>;
}
