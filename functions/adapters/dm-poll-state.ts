import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { DmPollState } from '../core/dm-poll-state';
import type { DmPollStateStore } from '../core/ports';
import { TableLayout } from './conversation-table';
import { dmEventIdSchema } from '../core/x-events';
import { formatZodIssues } from '../core/zod-issues';

const stateSchema = z.object({
  cursor: dmEventIdSchema.optional(),
  boundaryId: dmEventIdSchema.optional(),
  floorMs: z.number().optional(),
  resume: z.array(z.object({ token: z.string().min(1), oldestId: dmEventIdSchema.optional() })).optional(),
  notBeforeMs: z.number().optional(),
  overlapFromMs: z.number().optional(),
  recent: z.array(z.object({ id: dmEventIdSchema, atMs: z.number() })).max(1000).optional(),
}) satisfies z.ZodType<DmPollState>;

/**
 * The DM poller's cursor as one `CURSOR#<name>` item of the conversation table. One run at a
 * time writes it (the poller holds a lease), so a plain put is enough.
 */
export function dynamoDmPollState(doc: DynamoDBDocumentClient, tableName: string, name = 'dm-events'): DmPollStateStore {
  const key = { [TableLayout.partitionKey]: TableLayout.cursorKey(name) };
  return {
    async load() {
      const out = await doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
      if (!out.Item) return undefined;
      const parsed = stateSchema.safeParse(out.Item);
      if (!parsed.success) throw new Error(`stored DM poll state ${TableLayout.cursorKey(name)} is malformed: ${formatZodIssues(parsed.error, { limit: 1 })}`);
      return parsed.data;
    },
    async save(state: DmPollState) {
      const defined = Object.fromEntries(Object.entries(state).filter(([, v]) => v !== undefined));
      await doc.send(new PutCommand({ TableName: tableName, Item: { ...defined, ...key, updatedAt: new Date().toISOString() } }));
    },
  };
}
