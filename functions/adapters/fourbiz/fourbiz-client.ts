import type { Conversation } from '../../core/conversation';
import type { InboundMessage } from '../../core/x-events';

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
