import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { SIGNATURE_HEADER, verifySignature } from '../functions/core/x-signature';
import { accountActivitySchema, type AccountActivity } from '../functions/core/x-events';
import { readBody } from './http';

/**
 * The receiving end of a 4biz Omnichannel "Twitter Direct Message" interaction (its "URL de
 * retorno de chamada"), as the bridge's relay mode sees it: a real HTTP server on 127.0.0.1 that
 * checks `x-twitter-webhooks-signature` with the consumer secret like 4biz does (401 if wrong),
 * checks the Account Activity shape (one DM event, its users, for_user_id; 400 otherwise) and
 * records what it accepted, in order. Tests can make it fail, slow down, hang, or go down.
 */
export interface OmnichannelDelivery {
  eventId: string;
  senderId: string;
  body: AccountActivity;
  raw: Buffer;
  signature: string;
  /** The `Idempotency-Key` header (the bridge sends the DM event id; X itself sends none). */
  idempotencyKey?: string;
  /** performance.now() when it arrived: the end-to-end benchmark measures up to here. */
  receivedAt: number;
}

export interface OmnichannelSimulatorOptions {
  consumerSecret: string;
  /** 0 (default) picks a free port; restarts reuse the port it got. */
  port?: number;
  /** Seed for failFraction's random choices. */
  seed?: number;
}

const CALLBACK_PATH = '/omnichannel/twitter/callback';

/** Deterministic PRNG (mulberry32) so random failures repeat run to run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}


function validate(raw: Buffer): { ok: true; body: AccountActivity } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const parsed = accountActivitySchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'not an Account Activity payload' };
  const events = parsed.data.direct_message_events ?? [];
  if (events.length !== 1) return { ok: false, reason: `expected one DM event, got ${events.length}` };
  const sender = events[0].message_create?.sender_id;
  if (!sender || !parsed.data.users?.[sender]) return { ok: false, reason: 'the sender is missing from users' };
  return { ok: true, body: parsed.data };
}

export class OmnichannelSimulator {
  /** Accepted deliveries, in the order they arrived. */
  readonly deliveries: OmnichannelDelivery[] = [];
  /** Every call, with the status it got. */
  readonly calls: { status: number | 'timeout'; eventId?: string }[] = [];
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly random: () => number;
  private port: number;
  private failStatus?: number;
  private fraction = 0;
  private fractionStatus = 500;
  private delayMs = 0;
  private hang = false;
  private failFor?: (eventId: string) => number | undefined;

  constructor(private readonly opts: OmnichannelSimulatorOptions) {
    this.port = opts.port ?? 0;
    this.random = seeded(opts.seed ?? 42);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}${CALLBACK_PATH}`;
  }

  get isUp(): boolean {
    return this.server?.listening ?? false;
  }

  /** Every call answers this status until told otherwise (undefined: back to normal). */
  failWith(status: number | undefined): this {
    this.failStatus = status;
    return this;
  }

  /** A share of calls (0–1), chosen by the seeded PRNG, answers `status` without accepting. */
  failFraction(fraction: number, status = 500): this {
    this.fraction = fraction;
    this.fractionStatus = status;
    return this;
  }

  /** Per event: a status to answer instead of accepting it (undefined: accept). */
  failEvents(rule: ((eventId: string) => number | undefined) | undefined): this {
    this.failFor = rule;
    return this;
  }

  delay(ms: number): this {
    this.delayMs = ms;
    return this;
  }

  /** Calls are read but never answered (the caller's timeout fires). */
  timeOut(on = true): this {
    this.hang = on;
    return this;
  }

  reset(): this {
    this.failStatus = undefined;
    this.fraction = 0;
    this.delayMs = 0;
    this.hang = false;
    this.failFor = undefined;
    return this;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (typeof addr === 'object' && addr) this.port = addr.port;
    this.server = server;
    return this;
  }

  /** 4biz is down: the port refuses connections until start() again (same port). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restart(): Promise<this> {
    await this.stop();
    return this.start();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (req.method !== 'POST' || req.url !== CALLBACK_PATH) return this.answer(res, 404, 'not found');
    const signature = String(req.headers[SIGNATURE_HEADER] ?? '');
    if (!verifySignature(this.opts.consumerSecret, raw, signature)) return this.answer(res, 401, 'invalid signature');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return this.answer(res, 415, 'expected application/json');
    const checked = validate(raw);
    if (!checked.ok) return this.answer(res, 400, checked.reason);
    const event = checked.body.direct_message_events![0];
    const eventId = event.id;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.hang) {
      this.calls.push({ status: 'timeout', eventId });
      return;
    }
    const forced = this.failStatus ?? this.failFor?.(eventId) ?? (this.fraction > 0 && this.random() < this.fraction ? this.fractionStatus : undefined);
    if (forced !== undefined) return this.answer(res, forced, 'simulated failure', eventId);
    this.deliveries.push({ eventId, senderId: event.message_create!.sender_id, body: checked.body, raw, signature, idempotencyKey: req.headers['idempotency-key'] as string | undefined, receivedAt: performance.now() });
    this.answer(res, 200, 'ok', eventId);
  }

  private answer(res: ServerResponse, status: number, message: string, eventId?: string): void {
    this.calls.push({ status, eventId });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message }));
  }
}

export function startOmnichannelSimulator(opts: OmnichannelSimulatorOptions): Promise<OmnichannelSimulator> {
  return new OmnichannelSimulator(opts).start();
}
