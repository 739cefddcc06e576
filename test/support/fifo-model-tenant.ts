import type { InboundMessage } from '../../functions/core/x-events';
import type { TenantConfig } from '../../infra/tenant-config';
import { fifoModel } from './sqs-fifo-model';

/** The model's epoch: virtual time 0 is this instant. */
export const T0 = 1_732_500_000_000;

/** An inbound DM as the webhook queues it. */
export function modelDm(sender: string, eventId: string, atMs: number): InboundMessage {
  return {
    eventId,
    createdTimestamp: String(atMs),
    createdAt: new Date(atMs).toISOString(),
    forUserId: '1',
    sender: { id: sender },
    recipientId: '1',
    text: `dm ${eventId}`,
    attachments: [],
    raw: {
      event: { type: 'message_create', id: eventId, created_timestamp: String(atMs), message_create: { sender_id: sender, target: { recipient_id: '1' }, message_data: { text: `dm ${eventId}` } } },
      users: { [sender]: { id: sender } },
    },
  };
}

/** The tenant's inbound queue as the stack deploys it, in the model: no redrive policy, 14 days' retention. */
export function tenantQueueModel(tenant: TenantConfig) {
  return fifoModel({ visibilityTimeoutSeconds: tenant.inbound.visibilityTimeoutSeconds, batchSize: tenant.inbound.batchSize, epochMs: T0 });
}
