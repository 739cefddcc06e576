import { z } from 'zod';
import { xUserIdSchema } from './x-users';

/**
 * An outbound message: one reply from 4biz (an agent's occurrence, or the solution of a resolved
 * request) on its way to the person on X. The poller enqueues it; the sender sends it as DM(s).
 */
export const outboundMessageSchema = z.object({
  /** The conversation's X user (the FIFO group: replies to one person keep their order). */
  xUserId: xUserIdSchema,
  /** Who receives the DM: the same person (kept apart so the sender never derives it). */
  recipientId: xUserIdSchema,
  text: z.string().min(1),
  /** What the message came from: the 4biz occurrence id, or `solution-<requestNumber>`. Unique per reply. */
  sourceId: z.string().min(1).max(100),
  kind: z.enum(['occurrence', 'solution']),
  requestNumber: z.string().min(1),
  conversationId: z.string().min(1),
});

export type OutboundMessage = z.infer<typeof outboundMessageSchema>;

/** The source id of a request's solution message (also its queue de-duplication id). */
export function solutionSourceId(requestNumber: string): string {
  return `solution-${requestNumber}`;
}
