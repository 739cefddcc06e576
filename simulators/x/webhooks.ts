import { randomBytes } from 'node:crypto';
import { SIGNATURE_HEADER, signPayload } from '../../functions/core/x-signature';
import { snowflake } from './ids';
import { safeEqual, type XApiCredentials } from './oauth';
import { invalidRequest, notFound, reasonProblem } from './problems';
import type { Route } from './route';
import type { XSwitches } from './switches';

/**
 * Webhooks (`/2/webhooks`): registration with a real CRC GET to the registered URL, re-validation,
 * deletion, signed deliveries to the webhook, and replay jobs (`POST /2/webhooks/replay`).
 *
 * Inferred, not documented: the exact status and body of the failure reasons X lists by name (a 400
 * invalid-request problem whose `errors[].message` is "Reason: details"); that a replay re-posts
 * events X could not deliver while the webhook was invalid; and the `replay_job_status` post at the
 * end of a job (documented for Account Activity replays).
 */

export interface SimulatedWebhook {
  id: string;
  url: string;
  valid: boolean;
  created_at: string;
}

export interface CrcAttempt {
  url: string;
  webhookId?: string;
  ok: boolean;
  /** Why it failed (status, body, timeout), for assertions and `status` output. */
  reason?: string;
  at: Date;
}

/** One POST of X to a webhook: live, or re-posted by a replay job. */
export interface WebhookDelivery {
  webhookId: string;
  url: string;
  body: Buffer;
  /** X's clock when the event happened (replay windows select on it). */
  at: number;
  /** HTTP status the webhook answered; undefined when X did not post (webhook invalid) or it failed. */
  status?: number;
  replayJobId?: string;
}

export interface ReplayJob {
  jobId: string;
  webhookId: string;
  from: number;
  to: number;
  createdAt: string;
  /** Settles once every event of the window (and the job status) was posted. */
  done: Promise<void>;
}

export interface WebhooksOptions {
  credentials: XApiCredentials;
  now: () => number;
  maxWebhooks: number;
  crcTimeoutMs: number;
  /** Where X really connects for a registered webhook URL (tests map https URLs to the local gateway). */
  resolve: (url: string) => string;
  switches: XSwitches;
}

/** WebhookConfig fields (`webhook_config.fields`); without it X's v2 convention gives only the default ones (inferred: id, url). */
const webhookFields = new Set(['created_at', 'id', 'url', 'valid']);
const defaultWebhookFields = ['id', 'url'];

/** `yyyymmddhhmm` (UTC) → epoch ms, or undefined when it is not one. */
function replayDate(value: unknown): number | undefined {
  const m = typeof value === 'string' ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value) : null;
  if (!m) return undefined;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi);
  const back = new Date(ms);
  return back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h < 24 && mi < 60 ? ms : undefined;
}

export function webhooksFamily(opts: WebhooksOptions) {
  const { credentials, now, resolve } = opts;
  const webhooks: SimulatedWebhook[] = [];
  const crcAttempts: CrcAttempt[] = [];
  const deliveries: WebhookDelivery[] = [];
  const replayJobs: ReplayJob[] = [];
  const replayRunning = new Set<string>();
  /** Other families forget what hangs off a deleted webhook (subscriptions). */
  const onDelete: Array<(webhookId: string) => void> = [];

  function findWebhook(id: string): SimulatedWebhook {
    const hook = webhooks.find((w) => w.id === id);
    if (!hook) throw notFound('webhook', id);
    return hook;
  }

  /** CRC exactly as X runs it: GET url?crc_token=…, expect 200 JSON with the HMAC of the token. */
  async function runCrc(url: string, webhookId?: string): Promise<CrcAttempt> {
    const token = randomBytes(24).toString('base64url');
    const target = new URL(resolve(url));
    target.searchParams.set('crc_token', token);
    const fail = (reason: string): CrcAttempt => ({ url, webhookId, ok: false, reason, at: new Date() });
    let attempt: CrcAttempt;
    try {
      const res = await fetch(target, { signal: AbortSignal.timeout(opts.crcTimeoutMs) });
      const text = await res.text();
      let responseToken: unknown;
      try {
        responseToken = (JSON.parse(text) as { response_token?: unknown }).response_token;
      } catch {
        responseToken = undefined;
      }
      const expected = signPayload(credentials.consumerSecret, token);
      if (res.status !== 200) attempt = fail(`CRC GET answered HTTP ${res.status}`);
      else if (typeof responseToken !== 'string') attempt = fail('CRC answer has no response_token');
      else if (!safeEqual(responseToken, expected)) attempt = fail('CRC response_token does not match');
      else attempt = { url, webhookId, ok: true, at: new Date() };
    } catch (err) {
      attempt = fail(`CRC GET failed: ${(err as Error).message}`);
    }
    crcAttempts.push(attempt);
    return attempt;
  }

  const crcFailed = () => reasonProblem('CrcValidationFailed', 'Webhook URL does not meet the requirements. Invalid CRC token or json response format.');

  /** X posts a signed body to the webhook; an invalid webhook gets nothing (the event is kept for replay). */
  async function post(hook: SimulatedWebhook, bodyValue: unknown, at: number, replayJobId?: string): Promise<WebhookDelivery> {
    const body = Buffer.from(JSON.stringify(bodyValue));
    const delivery: WebhookDelivery = { webhookId: hook.id, url: hook.url, body, at, replayJobId };
    deliveries.push(delivery);
    if (!hook.valid) return delivery;
    try {
      const res = await fetch(resolve(hook.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signPayload(credentials.consumerSecret, body) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      delivery.status = res.status;
    } catch {
      delivery.status = undefined;
    }
    return delivery;
  }

  /** Re-posts, in order, every event of the window (minute granularity, both ends inclusive), then the job status. */
  async function runReplay(job: Omit<ReplayJob, 'done'>): Promise<void> {
    const hook = findWebhook(job.webhookId);
    const events = deliveries.filter((d) => d.webhookId === job.webhookId && !d.replayJobId && d.at >= job.from && d.at < job.to + 60_000);
    let complete = true;
    for (const e of events) {
      const again = await post(hook, JSON.parse(e.body.toString('utf8')), e.at, job.jobId);
      complete &&= again.status !== undefined && again.status < 300;
    }
    const state = complete
      ? { job_state: 'Complete', job_state_description: 'Job completed successfully' }
      : { job_state: 'Incomplete', job_state_description: 'Job failed to deliver all events, please retry your replay job' };
    await post(hook, { replay_job_status: { webhook_id: hook.id, ...state, job_id: job.jobId } }, now(), job.jobId);
  }

  const routes: Route[] = [
    {
      method: 'POST',
      pattern: /^\/2\/webhooks$/,
      name: 'POST /2/webhooks',
      auth: 'app',
      kind: 'management',
      async handle({ body }) {
        const url = (body as { url?: unknown } | undefined)?.url;
        if (typeof url !== 'string' || url.length > 200) throw invalidRequest('The `url` body parameter is required (at most 200 characters)', { url: [String(url ?? '')] });
        let parsed: URL | undefined;
        try {
          parsed = new URL(url);
        } catch {
          parsed = undefined;
        }
        // docs.x.com "Webhook requirements": https, no port.
        if (parsed?.protocol !== 'https:' || parsed.port !== '') throw reasonProblem('UrlValidationFailed', `The URL ${url} must use https and cannot include a port`);
        if (webhooks.some((w) => w.url === url)) throw reasonProblem('DuplicateUrlFailed', 'A webhook is already registered by your application for this URL');
        if (webhooks.length >= opts.maxWebhooks) throw reasonProblem('WebhookLimitExceeded', `Your application has reached the maximum number of allowed webhooks (${opts.maxWebhooks})`);
        const id = snowflake();
        const crc = await runCrc(url, id);
        if (!crc.ok) throw crcFailed();
        const hook: SimulatedWebhook = { id, url, valid: true, created_at: new Date().toISOString() };
        webhooks.push(hook);
        return { status: 200, body: { data: hook } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/2\/webhooks$/,
      name: 'GET /2/webhooks',
      auth: 'app',
      kind: 'management',
      async handle({ url }) {
        const asked = url.searchParams.get('webhook_config.fields')?.split(',') ?? defaultWebhookFields;
        const unknown = asked.filter((f) => !webhookFields.has(f));
        if (unknown.length) throw invalidRequest(`The \`webhook_config.fields\` query parameter value [${unknown.join(',')}] is not one of [${[...webhookFields].join(',')}]`, { 'webhook_config.fields': unknown });
        const fields = new Set([...defaultWebhookFields, ...asked]);
        const data = webhooks.map((w) => Object.fromEntries(Object.entries(w).filter(([k]) => fields.has(k))));
        // X leaves `data` out of an empty list (OpenAPI 2.166: minItems 1).
        return { status: 200, body: { ...(data.length ? { data } : {}), meta: { result_count: webhooks.length } } };
      },
    },
    {
      method: 'PUT',
      pattern: /^\/2\/webhooks\/([^/]+)$/,
      name: 'PUT /2/webhooks/:webhook_id',
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const hook = findWebhook(params[0]!);
        const crc = await runCrc(hook.url, hook.id);
        hook.valid = crc.ok;
        if (!crc.ok && opts.switches.revalidationFailure === 'CrcValidationFailed') throw crcFailed();
        // docs.x.com: "A 200 OK response indicates the CRC check was initiated. The valid field reflects the status after the check attempt."
        return { status: 200, body: { data: { valid: hook.valid } } };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/2\/webhooks\/([^/]+)$/,
      name: 'DELETE /2/webhooks/:webhook_id',
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const hook = findWebhook(params[0]!);
        webhooks.splice(webhooks.indexOf(hook), 1);
        for (const forget of onDelete) forget(hook.id);
        return { status: 200, body: { data: { deleted: true } } };
      },
    },
    {
      method: 'POST',
      pattern: /^\/2\/webhooks\/replay$/,
      name: 'POST /2/webhooks/replay',
      auth: 'app',
      kind: 'management',
      async handle({ body }) {
        const b = (body ?? {}) as { webhook_id?: unknown; from_date?: unknown; to_date?: unknown };
        const hook = findWebhook(typeof b.webhook_id === 'string' ? b.webhook_id : String(b.webhook_id));
        const from = replayDate(b.from_date);
        const to = replayDate(b.to_date);
        if (from === undefined || to === undefined) throw reasonProblem('QueryParamInvalid', 'from_date or to_date is not in the yyyymmddhhmm format');
        if (from > to) throw reasonProblem('QueryParamInvalid', 'from_date is more recent than to_date');
        if (to > now()) throw reasonProblem('QueryParamInvalid', 'to_date is in the future');
        if (from < now() - 24 * 3600_000) throw reasonProblem('QueryParamInvalid', 'from_date is older than 24 hours');
        if (replayRunning.has(hook.id)) throw reasonProblem('ReplayConflictError', 'A replay job is already in progress for the specified webhook');
        const job = { jobId: snowflake(), webhookId: hook.id, from, to, createdAt: new Date(now()).toISOString() };
        replayRunning.add(hook.id);
        // The job runs after the answer, as X's does.
        const done = new Promise<void>((r) => setImmediate(r)).then(() => runReplay(job)).finally(() => replayRunning.delete(hook.id));
        replayJobs.push({ ...job, done });
        return { status: 200, body: { data: { job_id: job.jobId, created_at: job.createdAt } } };
      },
    },
  ];

  return {
    webhooks,
    crcAttempts,
    deliveries,
    replayJobs,
    findWebhook,
    post,
    onDelete,
    routes,
    reset() {
      webhooks.length = 0;
      crcAttempts.length = 0;
      deliveries.length = 0;
      replayJobs.length = 0;
      replayRunning.clear();
    },
  };
}

export type Webhooks = ReturnType<typeof webhooksFamily>;
