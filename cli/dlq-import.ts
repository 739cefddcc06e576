import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { outboundMessageSchema } from '../functions/core/outbound-message';
import { parseQueueBody } from '../functions/core/queue-body';
import { inboundMessageSchema } from '../functions/core/x-events';
import { encryptedChatMessageSchema } from '../functions/core/xchat';
import { formatZodIssues } from '../functions/core/zod-issues';
import type { Print, QueueKind, QueuePair, QueueRef } from './dlq-commands';

/**
 * `npm run dlq -- import`: an export file is an ingress like any other. Each line is checked before
 * anything is sent: the file's `queue` must be the target queue or its DLQ (same tenant, same kind),
 * the body must be what that queue's consumer reads (the dispatcher's inbound message or XChat
 * message, the sender's outbound message), and it must bind to the tenant's X account: an inbound
 * message is a DM to the account from someone else, an outbound message a reply in one of the
 * tenant's conversations (the conversation table). A line that fails is refused with its line
 * number and the reason (field names and ids, never the DM text); the others are sent.
 */

export interface ImportTarget {
  kind: QueueKind;
  /** The target's queue pair: the file's `queue` must name one of them. */
  pair: QueuePair;
  to: QueueRef;
  /** The tenant's X account (`xAccountId`). */
  accountId: string;
  /** The tenant's conversation with an X user (outbound messages only). */
  conversation(xUserId: string): Promise<{ conversationId: string; requestNumber?: string } | undefined>;
}

export interface ImportReport {
  accepted: number;
  refused: { line: number; reason: string }[];
  sent: number;
}

const exportedMessageSchema = z.object({
  messageId: z.string().min(1),
  groupId: z.string().min(1).optional(),
  body: z.string(),
  attributes: z.record(z.object({ DataType: z.string(), StringValue: z.string().optional() }).passthrough()).optional(),
  queue: z.string(),
});
type Exported = z.infer<typeof exportedMessageSchema>;

/** Why an inbound body is not the tenant's (undefined when it is). */
function inboundProblem(m: Exported, accountId: string): string | undefined {
  const chat = parseQueueBody(m.body, encryptedChatMessageSchema);
  if (chat.ok) {
    const { accountId: account, senderId } = chat.value.xchat;
    if (account !== accountId) return `XChat message for account ${account}, not the tenant's ${accountId}`;
    if (senderId === accountId) return "XChat message sent by the tenant's own account";
    return m.groupId === senderId ? undefined : `group ${m.groupId} is not the sender ${senderId}`;
  }
  const parsed = parseQueueBody(m.body, inboundMessageSchema);
  if (!parsed.ok) return `body is not an inbound message (${parsed.reason})`;
  const dm = parsed.value;
  const create = dm.raw.event.message_create;
  if (dm.forUserId !== accountId || dm.recipientId !== accountId || (create && create.target.recipient_id !== accountId)) {
    return `DM for account ${dm.forUserId} to ${dm.recipientId}, not the tenant's ${accountId}`;
  }
  if (dm.sender.id === accountId) return "DM sent by the tenant's own account";
  if (!create || create.sender_id !== dm.sender.id || dm.raw.event.id !== dm.eventId) return `event ${dm.eventId} does not match its original X event`;
  return m.groupId === dm.sender.id ? undefined : `group ${m.groupId} is not the sender ${dm.sender.id}`;
}

/** Why an outbound body is not a reply in one of the tenant's conversations (undefined when it is). */
async function outboundProblem(m: Exported, target: ImportTarget): Promise<string | undefined> {
  const parsed = parseQueueBody(m.body, outboundMessageSchema);
  if (!parsed.ok) return `body is not an outbound message (${parsed.reason})`;
  const reply = parsed.value;
  if (reply.recipientId !== reply.xUserId) return `reply to ${reply.recipientId} in the conversation with ${reply.xUserId}`;
  if (reply.recipientId === target.accountId) return "reply to the tenant's own account";
  if (m.groupId !== reply.xUserId) return `group ${m.groupId} is not the conversation's X user ${reply.xUserId}`;
  const conversation = await target.conversation(reply.xUserId);
  if (!conversation) return `the tenant has no conversation with X user ${reply.xUserId}`;
  if (conversation.conversationId !== reply.conversationId) return `conversation ${reply.conversationId} is not the tenant's conversation with X user ${reply.xUserId}`;
  if (conversation.requestNumber !== reply.requestNumber) return `request ${reply.requestNumber} is not that conversation's 4biz request`;
  return undefined;
}

/** Checks one line of an export file against the target: the message, or why it is refused. */
async function checkLine(text: string, target: ImportTarget): Promise<{ ok: true; message: Exported } | { ok: false; reason: string }> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const shape = exportedMessageSchema.safeParse(json);
  if (!shape.success) return { ok: false, reason: `not an exported message (${formatZodIssues(shape.error, { pathsOnly: true, limit: 3 })})` };
  const m = shape.data;
  if (m.queue !== target.pair.queue.name && m.queue !== target.pair.dlq.name) return { ok: false, reason: `exported from ${m.queue}, not from ${target.pair.queue.name} or its DLQ` };
  if (!m.groupId) return { ok: false, reason: 'no message group (the FIFO queue needs the X user)' };
  const problem = target.kind === 'inbound' ? inboundProblem(m, target.accountId) : await outboundProblem(m, target);
  return problem ? { ok: false, reason: problem } : { ok: true, message: m };
}

/**
 * Checks every line of an export file, prints each refusal, and (unless `dryRun`) sends the accepted
 * messages to the target queue in file order (same group, a dedup id from the original message id).
 */
export async function importMessages(sqs: SQSClient, target: ImportTarget, file: string, print: Print, opts: { dryRun?: boolean } = {}): Promise<ImportReport> {
  const accepted: Exported[] = [];
  const refused: ImportReport['refused'] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const [i, text] of lines.entries()) {
    if (text.trim() === '') continue;
    const checked = await checkLine(text, target);
    if (checked.ok) accepted.push(checked.message);
    else {
      refused.push({ line: i + 1, reason: checked.reason });
      print(`${file}:${i + 1}: refused: ${checked.reason}`);
    }
  }
  print(`${accepted.length} accepted, ${refused.length} refused`);
  if (opts.dryRun) return { accepted: accepted.length, refused, sent: 0 };
  let sent = 0;
  for (let i = 0; i < accepted.length; i += 10) {
    const batch = accepted.slice(i, i + 10);
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: target.to.url,
        Entries: batch.map((m, j) => ({
          Id: String(j),
          MessageBody: m.body,
          MessageAttributes: m.attributes,
          MessageGroupId: m.groupId,
          MessageDeduplicationId: `import-${m.messageId}`,
        })),
      }),
    );
    if (out.Failed?.length) throw new Error(`${sent} sent; ${target.to.name} refused ${out.Failed.length} of the next batch (${out.Failed.map((f) => f.Message).join('; ')}): run import again with the remaining lines`);
    sent += batch.length;
    print(`${sent} of ${accepted.length} sent`);
  }
  return { accepted: accepted.length, refused, sent };
}
