import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { ApiRequestError, ApiResponseError, TwitterApi, type TwitterApiv2 } from 'twitter-api-v2';
import { z } from 'zod';
import { answerCrc } from '../functions/core/crc';
import type { XKeys } from './x-config';

/**
 * The X webhook commands (`npm run x -- <command>`), apart from argv parsing so tests run them
 * against the X simulator. Each command prints what it did and returns the process exit code.
 */

export const commandNames = ['register', 'subscribe', 'status', 'revalidate', 'unregister'] as const;
export type CommandName = (typeof commandNames)[number];

const webhookSchema = z.object({ id: z.string(), url: z.string(), valid: z.boolean(), created_at: z.string() });
export type XWebhook = z.infer<typeof webhookSchema>;
const webhookListSchema = z.object({ data: z.array(webhookSchema).default([]) });
const webhookCreatedSchema = z.object({ data: webhookSchema });
const subscribedSchema = z.object({ data: z.object({ subscribed: z.boolean() }) });
const subscriptionListSchema = z.object({ data: z.object({ subscriptions: z.array(z.object({ user_id: z.string() })).default([]) }) });
const bearerSchema = z.object({ access_token: z.string().min(1) });

/** The part of X's API the commands use. */
export interface XWebhookApi {
  listWebhooks(): Promise<XWebhook[]>;
  createWebhook(url: string): Promise<XWebhook>;
  /** Asks X to run the CRC check again (PUT /2/webhooks/:id). */
  validateWebhook(id: string): Promise<void>;
  deleteWebhook(id: string): Promise<void>;
  /** Subscribes the access token's account (user context). */
  subscribe(webhookId: string): Promise<boolean>;
  listSubscriptions(webhookId: string): Promise<string[]>;
}

/**
 * twitter-api-v2 clients for X: OAuth 1.0a user context for subscribing, the app bearer token for
 * the webhook endpoints (from the keys, or fetched once with the consumer key and secret).
 */
export function twitterWebhookApi(keys: XKeys, apiBaseUrl: string): XWebhookApi {
  const settings = apiBaseUrl.startsWith('http:') ? { httpAgent: new Agent({ keepAlive: false }) } : {};
  // Every call names the prefix: the library would otherwise always call api.x.com.
  const at = { prefix: `${apiBaseUrl}/2/` };
  const user = new TwitterApi(
    { appKey: keys.consumerKey, appSecret: keys.consumerSecret, accessToken: keys.accessToken, accessSecret: keys.accessTokenSecret },
    settings,
  ).v2;

  let app: Promise<TwitterApiv2> | undefined;
  const appClient = () =>
    (app ??= (async () => {
      return new TwitterApi(keys.bearerToken ?? (await fetchBearerToken(keys, apiBaseUrl)), settings).v2;
    })());

  return {
    async listWebhooks() {
      return webhookListSchema.parse(await (await appClient()).get('webhooks', undefined, at)).data;
    },
    async createWebhook(url) {
      return webhookCreatedSchema.parse(await (await appClient()).post('webhooks', { url }, at)).data;
    },
    async validateWebhook(id) {
      await (await appClient()).put(`webhooks/${encodeURIComponent(id)}`, undefined, at);
    },
    async deleteWebhook(id) {
      await (await appClient()).delete(`webhooks/${encodeURIComponent(id)}`, undefined, at);
    },
    async subscribe(webhookId) {
      return subscribedSchema.parse(await user.post(`account_activity/webhooks/${encodeURIComponent(webhookId)}/subscriptions/all`, undefined, at)).data.subscribed;
    },
    async listSubscriptions(webhookId) {
      const out = subscriptionListSchema.parse(await (await appClient()).get(`account_activity/webhooks/${encodeURIComponent(webhookId)}/subscriptions/all/list`, undefined, at));
      return out.data.subscriptions.map((s) => s.user_id);
    },
  };
}

/** OAuth 2.0 client credentials: the app bearer token, for secrets that do not hold one. */
async function fetchBearerToken(keys: XKeys, apiBaseUrl: string): Promise<string> {
  const basic = Buffer.from(`${encodeURIComponent(keys.consumerKey)}:${encodeURIComponent(keys.consumerSecret)}`).toString('base64');
  const res = await fetch(`${apiBaseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
    body: 'grant_type=client_credentials',
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`X refused the app bearer token request (HTTP ${res.status}): check the consumer key and secret`);
  return bearerSchema.parse(await res.json()).access_token;
}

export interface CommandContext {
  api: XWebhookApi;
  keys: XKeys;
  tenant: string;
  /** The tenant's company account id (tenants/NAME.json `xAccountId`), to check the subscription. */
  xAccountId?: string;
  /** The webhook URL: `--url`, else the stack output; throws when neither is available. */
  webhookUrl(): Promise<string>;
  out(line: string): void;
}

/** One line for an X error answer: status, title, detail and the per-field messages. */
export function describeXError(err: unknown): string {
  if (err instanceof ApiResponseError) {
    const data = (err.data ?? {}) as { title?: string; detail?: string; errors?: Array<{ message?: string; detail?: string }> };
    const title = data.title ?? err.message;
    const reasons = (data.errors ?? []).map((e) => e.message ?? e.detail).filter((m): m is string => Boolean(m));
    const detail = [data.detail, ...reasons].filter((s) => s && s !== title).join(' — ');
    const hint =
      err.code === 401 ? ' (check the keys: consumer key/secret, access token/secret, bearer token)' : err.code === 429 ? ` (rate limited until ${rateLimitReset(err)})` : '';
    return `X API answered ${err.code} ${title}${detail ? `: ${detail}` : ''}${hint}`;
  }
  if (err instanceof ApiRequestError) return `cannot reach the X API: ${err.requestError.message}`;
  if (err instanceof z.ZodError) return `unexpected answer from the X API: ${err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
  return (err as Error).message ?? String(err);
}

function rateLimitReset(err: ApiResponseError): string {
  const reset = err.rateLimit?.reset;
  return reset ? new Date(reset * 1000).toISOString() : 'later';
}

/** The webhook this tenant's commands act on: the one for its URL, or the app's only webhook. */
async function targetWebhook(ctx: CommandContext, hooks: XWebhook[]): Promise<XWebhook | undefined> {
  let url: string;
  try {
    url = await ctx.webhookUrl();
  } catch (err) {
    if (hooks.length === 1) {
      ctx.out(`(no webhook URL: ${(err as Error).message}; using the app's only webhook)`);
      return hooks[0];
    }
    throw err;
  }
  const hook = hooks.find((h) => h.url === url);
  if (!hook) ctx.out(`No webhook is registered for ${url}. Run: npm run x -- register --tenant ${ctx.tenant}`);
  return hook;
}

function describeWebhook(h: XWebhook): string {
  return `${h.id}  ${h.url}  valid: ${h.valid ? 'yes' : 'NO (X disabled it: run revalidate)'}  created: ${h.created_at}`;
}

/** Runs CRC against the URL the way X does, to tell whether the deployed endpoint answers it now. */
export async function crcSelfCheck(url: string, consumerSecret: string): Promise<{ ok: boolean; message: string }> {
  const token = randomBytes(24).toString('base64url');
  const target = new URL(url);
  target.searchParams.set('crc_token', token);
  const started = Date.now();
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(3000) });
    const ms = Date.now() - started;
    const body = (await res.json().catch(() => ({}))) as { response_token?: unknown };
    const expected = answerCrc(consumerSecret, token);
    if (res.status !== 200) return { ok: false, message: `FAILED: HTTP ${res.status} in ${ms} ms` };
    if (!expected.ok || body.response_token !== expected.body.response_token) {
      return { ok: false, message: `FAILED: wrong response_token in ${ms} ms (the deployed consumer secret differs from these keys?)` };
    }
    return { ok: true, message: `OK in ${ms} ms${ms > 3000 ? ' (too slow: X allows 3 s)' : ''}` };
  } catch (err) {
    return { ok: false, message: `FAILED: ${(err as Error).message}` };
  }
}

const commands: Record<CommandName, (ctx: CommandContext) => Promise<boolean>> = {
  async register(ctx) {
    const url = await ctx.webhookUrl();
    const hooks = await ctx.api.listWebhooks();
    const existing = hooks.find((h) => h.url === url);
    if (existing?.valid) {
      ctx.out(`Already registered: ${describeWebhook(existing)}`);
      return true;
    }
    if (existing) {
      ctx.out(`Registered but not valid: ${describeWebhook(existing)}; asking X to re-run the CRC check…`);
      await ctx.api.validateWebhook(existing.id);
      ctx.out('CRC check passed: the webhook is valid again.');
      return true;
    }
    ctx.out(`Registering ${url} with X (X runs a CRC check against it now)…`);
    try {
      const hook = await ctx.api.createWebhook(url);
      ctx.out(`Registered: ${describeWebhook(hook)}`);
      ctx.out(`Next: npm run x -- subscribe --tenant ${ctx.tenant}`);
      return true;
    } catch (err) {
      if (hooks.length > 0) ctx.out(`This app already has: ${hooks.map(describeWebhook).join('; ')}`);
      throw err;
    }
  },

  async subscribe(ctx) {
    const hook = await targetWebhook(ctx, await ctx.api.listWebhooks());
    if (!hook) return false;
    const subscribed = await ctx.api.subscribe(hook.id);
    ctx.out(subscribed ? `Subscribed the account of the access token to webhook ${hook.id}: its DMs now reach ${hook.url}` : `X did not confirm the subscription to webhook ${hook.id}`);
    return subscribed;
  },

  async status(ctx) {
    const hooks = await ctx.api.listWebhooks();
    let url: string | undefined;
    try {
      url = await ctx.webhookUrl();
    } catch (err) {
      ctx.out(`Webhook URL of tenant ${ctx.tenant}: unknown (${(err as Error).message})`);
    }
    if (url) ctx.out(`Webhook URL of tenant ${ctx.tenant}: ${url}`);
    ctx.out(`Webhooks registered with X (${hooks.length}):`);
    for (const h of hooks) ctx.out(`  ${describeWebhook(h)}${h.url === url ? '  ← this tenant' : ''}`);
    let healthy = hooks.some((h) => h.valid && (!url || h.url === url));
    for (const h of hooks.filter((w) => !url || w.url === url)) {
      const users = await ctx.api.listSubscriptions(h.id);
      ctx.out(`Subscriptions of webhook ${h.id}: ${users.length ? users.join(', ') : 'none (run subscribe)'}`);
      if (ctx.xAccountId && !users.includes(ctx.xAccountId)) {
        ctx.out(`  the tenant's account ${ctx.xAccountId} is not subscribed`);
        healthy = false;
      }
    }
    if (url) {
      const crc = await crcSelfCheck(url, ctx.keys.consumerSecret);
      ctx.out(`CRC check now (as X runs it) against ${url}: ${crc.message}`);
      healthy &&= crc.ok;
    }
    if (!hooks.length) ctx.out(`Nothing registered. Run: npm run x -- register --tenant ${ctx.tenant}`);
    return healthy;
  },

  async revalidate(ctx) {
    const hook = await targetWebhook(ctx, await ctx.api.listWebhooks());
    if (!hook) return false;
    ctx.out(`Asking X to re-run the CRC check against ${hook.url}…`);
    await ctx.api.validateWebhook(hook.id);
    ctx.out(`CRC check passed: webhook ${hook.id} is valid.`);
    return true;
  },

  async unregister(ctx) {
    const hook = await targetWebhook(ctx, await ctx.api.listWebhooks());
    if (!hook) return false;
    await ctx.api.deleteWebhook(hook.id);
    ctx.out(`Deleted webhook ${hook.id} (${hook.url}); X stops delivering to it, and its subscriptions are gone.`);
    return true;
  },
};

/** Replaces any key value that would appear in a line: the last guard against printing a secret. */
export function redactor(keys: XKeys): (line: string) => string {
  const values = Object.values(keys).filter((v): v is string => typeof v === 'string' && v.length >= 4);
  return (line) => values.reduce((l, v) => l.split(v).join('***'), line);
}

/** Runs one command; X's error answers become one clear line. Returns the exit code (0 or 1). */
export async function runXCommand(name: CommandName, ctx: CommandContext): Promise<0 | 1> {
  const redact = redactor(ctx.keys);
  const safe: CommandContext = { ...ctx, out: (line) => ctx.out(redact(line)) };
  try {
    return (await commands[name](safe)) ? 0 : 1;
  } catch (err) {
    safe.out(`${name} failed: ${describeXError(err)}`);
    return 1;
  }
}
