import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoLeaseStore } from '../../functions/adapters/lease-store';
import { withLease } from '../../functions/core/lease';
import { createTestTable, testDynamoClient } from '../support/aws';

describe('lease in the conversation table (one poller run at a time)', () => {
  const dynamo = testDynamoClient();
  const doc = DynamoDBDocumentClient.from(dynamo);
  let table: string;
  let nowMs = Date.parse('2026-11-25T12:00:00Z');
  const leases = () => dynamoLeaseStore(doc, table, () => nowMs);
  beforeAll(async () => {
    table = await createTestTable(dynamo);
  });
  afterAll(() => dynamo.destroy());

  it('lets one holder in and keeps a second out until the first releases', async () => {
    const s = leases();
    expect(await s.tryAcquire('poller', 'run-a', 60)).toBe(true);
    expect(await s.tryAcquire('poller', 'run-b', 60)).toBe(false);
    // The holder may renew its own lease.
    expect(await s.tryAcquire('poller', 'run-a', 60)).toBe(true);
    await s.release('poller', 'run-b'); // not run-b's: nothing happens
    expect(await s.tryAcquire('poller', 'run-b', 60)).toBe(false);
    await s.release('poller', 'run-a');
    expect(await s.tryAcquire('poller', 'run-b', 60)).toBe(true);
  });

  it('hands an expired lease to the next run (a crashed holder blocks only until expiry)', async () => {
    const s = leases();
    expect(await s.tryAcquire('crashy', 'run-a', 30)).toBe(true);
    nowMs += 29_000;
    expect(await s.tryAcquire('crashy', 'run-b', 30)).toBe(false);
    nowMs += 2_000;
    expect(await s.tryAcquire('crashy', 'run-b', 30)).toBe(true);
  });

  it('runs overlapping jobs one at a time and releases even when the job throws', async () => {
    const s = leases();
    let release!: () => void;
    const first = withLease(s, { name: 'job', holder: 'a', ttlSeconds: 60 }, () => new Promise<string>((r) => (release = () => r('a done'))));
    await new Promise((r) => setTimeout(r, 50));
    await expect(withLease(s, { name: 'job', holder: 'b', ttlSeconds: 60 }, async () => 'b ran')).resolves.toEqual({ ran: false });
    release();
    await expect(first).resolves.toEqual({ ran: true, result: 'a done' });
    await expect(withLease(s, { name: 'job', holder: 'c', ttlSeconds: 60 }, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(withLease(s, { name: 'job', holder: 'd', ttlSeconds: 60 }, async () => 'd ran')).resolves.toEqual({ ran: true, result: 'd ran' });
  });
});
