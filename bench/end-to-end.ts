import { request } from 'node:http';
import { SIGNATURE_HEADER, signPayload } from '../functions/core/x-signature';
import { startLocalBridge } from '../local/start';
import { fixtureBytes } from '../test/support/x-fixtures';
import { round, summarise, type Summary } from './stats';

/**
 * The local bridge end to end: signed POSTs to the webhook (as X sends them, some twice as X's
 * retries do) → fauxqs → dispatcher → DynamoDB Local → the 4biz Omnichannel simulator. Latency is
 * from the start of a DM's first POST to its arrival at the simulator; losses, duplicates and
 * per-sender order are counted, not assumed.
 */
export interface EndToEnd {
  /** One DM at a time, each sent after the previous one arrived: the latency of a quiet bridge. */
  idleLatencyMs: Summary;
  dms: number;
  senders: number;
  duplicatesSent: number;
  /** Under the 1,000-DM burst: includes the time spent queued behind other DMs. */
  latencyMs: Summary;
  throughputPerSecond: number;
  delivered: number;
  lost: number;
  duplicated: number;
  orderViolations: number;
  wallSeconds: number;
}

function post(url: URL, body: Buffer, signature: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': body.length, [SIGNATURE_HEADER]: signature } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const template = JSON.parse(fixtureBytes('dm-received.json').toString());

/** A delivery of one DM, in X's shape, from a made-up sender. */
function dmBody(eventId: string, sender: string, text: string): Buffer {
  const body = structuredClone(template);
  const event = body.direct_message_events[0];
  event.id = eventId;
  event.created_timestamp = String(Date.now());
  event.message_create.sender_id = sender;
  event.message_create.message_data.text = text;
  body.users = { [sender]: { ...template.users['2900000000000000042'], id: sender, screen_name: `user${sender.slice(-4)}` } };
  return Buffer.from(JSON.stringify(body));
}

/** At most `n` tasks at once. */
function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

export async function measureEndToEnd(opts: { dms?: number; senders?: number; duplicateEvery?: number; concurrency?: number } = {}): Promise<EndToEnd> {
  const dms = opts.dms ?? 1000;
  const senders = opts.senders ?? 200;
  const duplicateEvery = opts.duplicateEvery ?? 10;
  const bridge = await startLocalBridge({ port: 0, tenant: 'example', fourbizMode: 'relay', uniqueNames: true });
  const simulator = bridge.omnichannel;
  if (!simulator) throw new Error('the local bridge did not start the Omnichannel simulator');
  try {
    const url = new URL(bridge.webhookUrl);

    const idle: number[] = [];
    for (let i = 0; i < 50; i++) {
      const eventId = String(1869000000000000000n + BigInt(i));
      const body = dmBody(eventId, String(3100000000000000000n + BigInt(i)), 'olá');
      const t = performance.now();
      if ((await post(url, body, signPayload(bridge.consumerSecret, body))) !== 200) throw new Error('webhook refused a DM');
      for (;;) {
        const arrived = simulator.deliveries.find((d) => d.eventId === eventId);
        if (arrived) {
          idle.push(arrived.receivedAt - t);
          break;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    simulator.deliveries.length = 0;

    const sentAt = new Map<string, number>();
    const seqOf = new Map<string, number>();
    const perSender: { eventId: string; body: Buffer }[][] = Array.from({ length: senders }, () => []);
    for (let i = 0; i < dms; i++) {
      const eventId = String(1870000000000000000n + BigInt(i));
      const seq = Math.floor(i / senders);
      seqOf.set(eventId, seq);
      perSender[i % senders].push({ eventId, body: dmBody(eventId, String(3000000000000000000n + BigInt(i % senders)), `mensagem ${seq}`) });
    }

    const limit = limiter(opts.concurrency ?? 20);
    let duplicatesSent = 0;
    let n = 0;
    const t0 = performance.now();
    // X delivers one user's DMs one after another; different users' DMs concurrently.
    await Promise.all(
      perSender.map(async (chain) => {
        for (const dm of chain) {
          const signature = signPayload(bridge.consumerSecret, dm.body);
          await limit(async () => {
            sentAt.set(dm.eventId, performance.now());
            const status = await post(url, dm.body, signature);
            if (status !== 200) throw new Error(`webhook answered ${status}`);
          });
          if (++n % duplicateEvery === 0) {
            duplicatesSent++;
            await limit(() => post(url, dm.body, signature));
          }
        }
      }),
    );

    const deadline = Date.now() + 60_000;
    while (new Set(simulator.deliveries.map((d) => d.eventId)).size < dms && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // A short grace period, so a late duplicate would still be counted.
    await new Promise((r) => setTimeout(r, 500));

    const deliveries = [...simulator.deliveries];
    const unique = new Set(deliveries.map((d) => d.eventId));
    const lastSeq = new Map<string, number>();
    let orderViolations = 0;
    for (const d of deliveries) {
      const seq = seqOf.get(d.eventId) ?? -1;
      if (seq < (lastSeq.get(d.senderId) ?? -1)) orderViolations++;
      lastSeq.set(d.senderId, seq);
    }
    const firstArrival = new Map<string, number>();
    for (const d of deliveries) if (!firstArrival.has(d.eventId)) firstArrival.set(d.eventId, d.receivedAt);
    const latencies = [...firstArrival].map(([id, at]) => at - (sentAt.get(id) ?? at));
    const lastAt = Math.max(...firstArrival.values());
    return {
      idleLatencyMs: summarise(idle),
      dms,
      senders,
      duplicatesSent,
      latencyMs: summarise(latencies),
      throughputPerSecond: round(unique.size / ((lastAt - t0) / 1000), 1),
      delivered: unique.size,
      lost: [...sentAt.keys()].filter((id) => !unique.has(id)).length,
      duplicated: deliveries.length - unique.size,
      orderViolations,
      wallSeconds: round((lastAt - t0) / 1000, 2),
    };
  } finally {
    await bridge.stop();
  }
}
