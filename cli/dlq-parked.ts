import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sendFifo } from '../functions/adapters/fifo-send';
import { deleteParkedInbound, listParkedInbound } from '../functions/adapters/inbound-parking';
import type { Print } from './dlq-commands';

/**
 * `npm run dlq -- parked`: the inbound messages the webhook parked in the tenant's table when the
 * queue refused them (InboundParked alarm). Listed by id, age and sender, never their text.
 */
export async function listParked(doc: DynamoDBDocumentClient, tableName: string, print: Print, now = Date.now()): Promise<number> {
  const parked = await listParkedInbound(doc, tableName);
  for (const p of parked) {
    const minutes = Math.floor((now - p.parkedAt) / 60_000);
    print(`${p.eventId}  parked ${minutes} min ago  sender ${p.groupId}`);
  }
  print(`${parked.length} parked inbound message(s) in ${tableName}`);
  return parked.length;
}

/**
 * Sends each parked message to the inbound queue, oldest DM first (a person's in their order), with
 * the group and dedup ids the webhook would have used, and deletes it only once the queue took it:
 * a crash between the two leaves a copy that the next run sends again and the dispatcher's
 * processed record skips. Stops at the first refusal (a person's later DMs must not overtake it).
 */
export async function requeueParked(doc: DynamoDBDocumentClient, tableName: string, sqs: SQSClient, queueUrl: string, print: Print): Promise<number> {
  const parked = await listParkedInbound(doc, tableName);
  let requeued = 0;
  for (const p of parked) {
    await sendFifo(sqs, queueUrl, [{ body: JSON.parse(p.body) as unknown, groupId: p.groupId, dedupId: p.dedupId }]);
    await deleteParkedInbound(doc, tableName, p);
    requeued++;
    print(`${p.eventId} requeued (sender ${p.groupId})`);
  }
  return requeued;
}
