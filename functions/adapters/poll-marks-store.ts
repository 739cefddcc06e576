import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { PollMarks } from '../core/poll-schedule';
import type { PollMarksStore } from '../core/ports';
import { TableLayout } from './conversation-table';

/** Marks per item: about 35 bytes each, far under DynamoDB's 400 KB item limit. */
const MARKS_PER_ITEM = 5_000;

const itemSchema = z.object({ marks: z.record(z.string(), z.number()), items: z.number().int().min(1).optional() });

/**
 * When the poller last polled each open conversation, as `CURSOR#reply-poll` items of the
 * conversation table: the first says how many there are, each holds up to 5,000 marks (one read
 * and one write a run per 5,000 open conversations). One run at a time writes them (the poller
 * holds a lease). A missing or unreadable item is a fresh start for its conversations: they are
 * due at once, which costs calls, never an answer.
 */
export function dynamoPollMarks(doc: DynamoDBDocumentClient, tableName: string): PollMarksStore {
  const keyOf = (i: number) => ({ [TableLayout.partitionKey]: TableLayout.cursorKey(i === 0 ? 'reply-poll' : `reply-poll#${i}`) });
  const read = async (i: number) => {
    const out = await doc.send(new GetCommand({ TableName: tableName, Key: keyOf(i), ConsistentRead: true }));
    return itemSchema.safeParse(out.Item).data;
  };
  return {
    async load() {
      const first = await read(0);
      const rest = await Promise.all(Array.from({ length: (first?.items ?? 1) - 1 }, (_, i) => read(i + 1)));
      return Object.assign({}, first?.marks, ...rest.map((r) => r?.marks));
    },
    async save(marks: PollMarks) {
      const entries = Object.entries(marks);
      const items = Math.max(1, Math.ceil(entries.length / MARKS_PER_ITEM));
      const updatedAt = new Date().toISOString();
      await Promise.all(
        Array.from({ length: items }, (_, i) =>
          doc.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...keyOf(i), marks: Object.fromEntries(entries.slice(i * MARKS_PER_ITEM, (i + 1) * MARKS_PER_ITEM)), ...(i === 0 ? { items } : {}), updatedAt },
            }),
          ),
        ),
      );
    },
  };
}
