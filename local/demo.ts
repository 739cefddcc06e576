import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { fileSecretSource } from '../functions/adapters/secrets';
import { SIGNATURE_HEADER, signPayload } from '../functions/core/x-signature';
import { environmentWithDotEnv, parseLocalSettings } from './local-config';

/**
 * `npm run demo`: plays X against a running `npm start` — one signed sample DM (the
 * dm-received fixture with fresh ids) — and shows 4biz receiving it; in tickets mode an agent then
 * answers in the 4biz simulator and the reply DM shows up at the X simulator. Exits 1 when
 * nothing arrives within the time limit.
 */
const root = join(__dirname, '..');
const WAIT_MS = 10_000;

const statusSchema = z.object({
  tenant: z.string(),
  mode: z.enum(['relay', 'tickets']),
  ingestion: z.enum(['webhook', 'poll']).default('webhook'),
  xPollIntervalMs: z.number().optional(),
  webhookUrl: z.string(),
  xApi: z.string(),
  fourbiz: z.union([z.string(), z.literal(false)]).optional(),
  xAccountId: z.string(),
  secretsFile: z.string(),
});
type BridgeStatus = z.infer<typeof statusSchema>;

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

async function waitFor<T>(what: () => Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await what();
    if (found !== undefined || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The fixture DM, re-addressed to the tenant's account, with a new event id and timestamp. */
export function sampleDelivery(
  xAccountId: string,
  now = Date.now(),
): { body: Buffer; eventId: string; senderId: string; text: string; urls: Array<{ url: string; expandedUrl: string }> } {
  const fixture = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'dm-received.json'), 'utf8')) as {
    for_user_id: string;
    direct_message_events: Array<{
      id: string;
      created_timestamp: string;
      message_create: { sender_id: string; target: { recipient_id: string }; message_data: { text: string; entities?: { urls?: Array<{ url: string; expanded_url: string }> } } };
    }>;
    users: Record<string, { id: string }>;
  };
  const fixtureAccount = fixture.for_user_id;
  const event = fixture.direct_message_events[0]!;
  const eventId = `${BigInt(now) * 4_194_304n + BigInt(Math.floor(Math.random() * 4_194_304))}`;
  event.id = eventId;
  event.created_timestamp = String(now);
  event.message_create.target.recipient_id = xAccountId;
  fixture.for_user_id = xAccountId;
  const account = fixture.users[fixtureAccount];
  if (account && fixtureAccount !== xAccountId) {
    delete fixture.users[fixtureAccount];
    fixture.users[xAccountId] = { ...account, id: xAccountId };
  }
  const urls = (event.message_create.message_data.entities?.urls ?? []).map((u) => ({ url: u.url, expandedUrl: u.expanded_url }));
  return { body: Buffer.from(JSON.stringify(fixture)), eventId, senderId: event.message_create.sender_id, text: event.message_create.message_data.text, urls };
}

async function relayDemo(base: string, status: BridgeStatus, eventId: string): Promise<boolean> {
  if (status.fourbiz !== 'simulator') {
    console.log(`Relayed to ${status.fourbiz} (a real 4biz callback): the bridge log shows "DM delivered to 4biz" for event ${eventId}.`);
    return true;
  }
  const delivery = await waitFor(async () => {
    const list = z.array(z.object({ eventId: z.string(), senderId: z.string(), signature: z.string(), body: z.unknown() })).parse(await getJson(`${base}/_local/deliveries`));
    return list.find((d) => d.eventId === eventId);
  });
  if (!delivery) return false;
  console.log('4biz Omnichannel (simulator) received it, signature verified:');
  console.log(`  x-twitter-webhooks-signature: ${delivery.signature}`);
  console.log(JSON.stringify(delivery.body, null, 2).replace(/^/gm, '  '));
  return true;
}

const requestsSchema = z.array(
  z.object({ number: z.number(), numberOrigin: z.string(), occurrences: z.array(z.object({ description: z.string() })) }),
);

/** Messages per 4biz request (the request itself counts as one), to spot the one the DM landed in. */
async function ticketsSnapshot(base: string): Promise<Map<number, number>> {
  const requests = requestsSchema.parse(await getJson(`${base}/_local/deliveries`));
  return new Map(requests.map((r) => [r.number, 1 + r.occurrences.length]));
}

async function ticketsDemo(base: string, status: BridgeStatus, senderId: string, before: Map<number, number>): Promise<boolean> {
  if (status.fourbiz !== 'simulator') {
    console.log(`Sent to 4biz at ${status.fourbiz}: look for the request there (numberOrigin starts with the sender id ${senderId}).`);
    return true;
  }
  const request = await waitFor(async () => {
    const requests = requestsSchema.parse(await getJson(`${base}/_local/deliveries`));
    return requests.find((r) => r.numberOrigin.startsWith(senderId) && 1 + r.occurrences.length > (before.get(r.number) ?? 0));
  });
  if (!request) return false;
  console.log(`4biz (REST simulator) has it in request ${request.number} (numberOrigin ${request.numberOrigin}).`);

  const reply = `Olá! Aqui é o suporte: recebemos sua mensagem (${new Date().toISOString().slice(11, 19)}).`;
  const res = await fetch(`${base}/_local/agent-reply`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ numberOrigin: request.numberOrigin, text: reply }),
  });
  if (!res.ok) return false;
  console.log(`An agent answers in 4biz: "${reply}"`);
  const dm = await waitFor(async () => {
    const dms = z.array(z.object({ participantId: z.string(), text: z.string() })).parse(await getJson(`${base}/_local/dms`));
    return dms.find((d) => d.participantId === senderId && d.text.includes(reply));
  }, 15_000);
  if (!dm) {
    console.log('…but no reply DM reached the X simulator in time (is the poller/sender running? see the bridge log).');
    return false;
  }
  console.log(`The X simulator was asked to send the reply DM to ${dm.participantId}: "${dm.text}"`);
  return true;
}

/** Webhook ingestion: X's signed POST of the sample DM. */
async function signedDelivery(status: BridgeStatus): Promise<{ eventId: string; senderId: string } | undefined> {
  const secret = await fileSecretSource(status.secretsFile).get();
  const { body, eventId, senderId } = sampleDelivery(status.xAccountId);
  console.log(`Sending a signed DM (event ${eventId}) from user ${senderId} to ${status.webhookUrl}…`);
  const res = await fetch(status.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signPayload(secret.consumerSecret, body) },
    body,
  });
  console.log(`The bridge answered ${res.status} ${await res.text()}`);
  return res.status === 200 ? { eventId, senderId } : undefined;
}

/** Polling mode: the sample DM lands in the X simulator's DM events, where the bridge's DM poller reads it. */
async function dmToPoll(base: string, status: BridgeStatus): Promise<{ eventId: string; senderId: string } | undefined> {
  if (status.xApi !== 'simulator') {
    console.log(`The bridge polls the real X API (${status.xApi}): send a DM to the company account from another X account; it is read within ${(status.xPollIntervalMs ?? 0) / 1000} s.`);
    return undefined;
  }
  const { text, urls } = sampleDelivery(status.xAccountId);
  const res = await fetch(`${base}/_local/x-dm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, urls }) });
  if (!res.ok) {
    console.log(`The bridge refused the DM (${res.status} ${await res.text()})`);
    return undefined;
  }
  const dm = z.object({ eventId: z.string(), senderId: z.string() }).parse(await res.json());
  console.log(`A person (user ${dm.senderId}) wrote to the company on X: DM event ${dm.eventId} is in the X simulator; the bridge polls GET /2/dm_events (X_INGESTION=poll)…`);
  return dm;
}

async function main(): Promise<number> {
  const settings = parseLocalSettings(environmentWithDotEnv(process.env, join(root, '.env')));
  const base = `http://127.0.0.1:${settings.port}`;
  let status: BridgeStatus;
  try {
    status = statusSchema.parse(await getJson(`${base}/_local/status`));
  } catch (err) {
    console.error(`No local bridge at ${base} (${(err as Error).message}). Start it first: npm start`);
    return 1;
  }
  const before = status.mode === 'tickets' && status.fourbiz === 'simulator' ? await ticketsSnapshot(base) : new Map<number, number>();
  const started = Date.now();
  const sent = status.ingestion === 'poll' ? await dmToPoll(base, status) : await signedDelivery(status);
  if (!sent) return 1;
  const { eventId, senderId } = sent;

  const ok = status.mode === 'relay' ? await relayDemo(base, status, eventId) : await ticketsDemo(base, status, senderId, before);
  if (!ok) {
    console.error(`Nothing arrived within ${WAIT_MS / 1000} s: see the bridge's log.`);
    return 1;
  }
  console.log(`Done in ${Date.now() - started} ms.`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`demo failed: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
