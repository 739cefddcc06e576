import type { XWebhookApi } from '../functions/core/ports';
import { replayWindow, webhookFor, webhookUrlProblem, type XActivitySubscription, type XWebhook } from '../functions/core/x-webhook-api';
import { crcSelfCheck } from '../functions/adapters/crc-probe';
import { describeXError, xErrorReasons } from '../functions/adapters/x-webhooks';
import type { XKeys } from './x-config';

/**
 * The X webhook commands (`npm run x -- <command>`), apart from argv parsing so tests run them
 * against the X simulator. Each command prints what it did and returns the process exit code.
 * The X calls themselves live in functions/adapters/x-webhooks.ts (shared with the webhook-health
 * function).
 */

export const commandNames = ['register', 'subscribe', 'unsubscribe', 'status', 'revalidate', 'replay', 'unregister'] as const;
export type CommandName = (typeof commandNames)[number];

/** Which X API feeds the webhook: the X Activity API, or the Account Activity API X is deprecating. */
export type XFeedApi = 'xaa' | 'aaa';

/** X Activity API events the bridge subscribes the account to: DMs, plus what the operator must hear of. */
const xaaEventTypes = ['dm.received', 'chat.received', 'oauth.revoke'] as const;

export interface CommandContext {
  api: XWebhookApi;
  keys: XKeys;
  tenant: string;
  /** The tenant's company account id (tenants/NAME.json `xAccountId`): whom to subscribe and check. */
  xAccountId: string;
  /** The webhook URL: `--url`, else the stack output; throws when neither is available. */
  webhookUrl(): Promise<string>;
  out(line: string): void;
  /** `subscribe`/`unsubscribe --api`: which X API feeds the webhook (default xaa: X delivers legacy DMs through it and is deprecating the AAA). */
  feedApi?: XFeedApi;
  /** `replay --from/--to`: ISO times. */
  replayFrom?: string;
  replayTo?: string;
  /** Clock for the replay window check (tests inject it). */
  now?: () => number;
  /** The CRC self-check of `status` (default crcSelfCheck; tests reach the bridge through their own mapping). */
  crcCheck?: (url: string, consumerSecret: string) => Promise<{ ok: boolean; message: string }>;
}

/** The `tag` of the tenant's XAA subscriptions: it names the tenant, so `status` and `unsubscribe` find them. */
export const subscriptionTag = (tenant: string) => `4biz-twitter-dm:${tenant}`;

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
  const hook = webhookFor(hooks, url);
  if (!hook) ctx.out(`No webhook is registered for ${url}. Run: npm run x -- register --tenant ${ctx.tenant}`);
  return hook;
}

function describeWebhook(h: XWebhook): string {
  return `${h.id}  ${h.url}  valid: ${h.valid ? 'yes' : 'NO (X stopped delivering: run revalidate)'}  created: ${h.created_at}`;
}

/** Re-runs X's CRC check and says what X answered; true when the webhook is valid afterwards. */
async function revalidate(ctx: CommandContext, hook: XWebhook): Promise<boolean> {
  ctx.out(`Asking X to re-run the CRC check against ${hook.url}…`);
  const valid = await ctx.api.validateWebhook(hook.id);
  ctx.out(
    valid
      ? `CRC check passed: webhook ${hook.id} is valid.`
      : `FAILED: X's CRC check of ${hook.url} did not pass; webhook ${hook.id} stays invalid and X delivers nothing to it. Run status to see why.`,
  );
  return valid;
}

/** Runs an X call whose "already done" answer is success; true when it was already done. */
async function alreadyDone(call: () => Promise<unknown>, reason: string): Promise<boolean> {
  try {
    await call();
    return false;
  } catch (err) {
    if (xErrorReasons(err).includes(reason)) return true;
    throw err;
  }
}

function describeActivity(a: XActivitySubscription): string {
  return `${a.subscription_id}  ${a.event_type}  user ${a.filter.user_id ?? '(any)'}${a.tag ? `  tag ${a.tag}` : ''}`;
}

const commands: Record<CommandName, (ctx: CommandContext) => Promise<boolean>> = {
  async register(ctx) {
    const url = await ctx.webhookUrl();
    const refused = webhookUrlProblem(url);
    if (refused) {
      ctx.out(`Not registering ${url}: ${refused}.`);
      return false;
    }
    const hooks = await ctx.api.listWebhooks();
    const existing = webhookFor(hooks, url);
    if (existing?.valid) {
      ctx.out(`Already registered: ${describeWebhook(existing)}`);
      return true;
    }
    if (existing) {
      ctx.out(`Registered but not valid: ${describeWebhook(existing)}`);
      return revalidate(ctx, existing);
    }
    ctx.out(`Registering ${url} with X (X runs a CRC check against it now)…`);
    try {
      const hook = await ctx.api.createWebhook(url);
      ctx.out(`Registered: ${describeWebhook(hook)}`);
      ctx.out(`Next: npm run x -- subscribe --tenant ${ctx.tenant} --api xaa (or --api aaa while X keeps the Account Activity API)`);
      return true;
    } catch (err) {
      if (hooks.length > 0) ctx.out(`This app already has: ${hooks.map(describeWebhook).join('; ')}`);
      throw err;
    }
  },

  async subscribe(ctx) {
    const hook = await targetWebhook(ctx, await ctx.api.listWebhooks());
    if (!hook) return false;
    if ((ctx.feedApi ?? 'xaa') === 'aaa') {
      if ((await ctx.api.listSubscriptions(hook.id)).includes(ctx.xAccountId)) {
        ctx.out(`Already subscribed: account ${ctx.xAccountId} to webhook ${hook.id} (Account Activity API).`);
        return true;
      }
      if (await alreadyDone(() => ctx.api.subscribe(hook.id), 'DuplicateSubscriptionFailed')) {
        ctx.out(`Already subscribed: X says account ${ctx.xAccountId} is subscribed to webhook ${hook.id} (Account Activity API).`);
        return true;
      }
      ctx.out(`Subscribed account ${ctx.xAccountId} to webhook ${hook.id} (Account Activity API): its DMs now reach ${hook.url}`);
      return true;
    }
    const existing = (await ctx.api.listActivitySubscriptions()).filter((a) => a.webhook_id === hook.id);
    const tag = subscriptionTag(ctx.tenant);
    for (const eventType of xaaEventTypes) {
      // oauth.revoke takes no filter: it is about the app, for whichever user revokes it.
      const userId = eventType === 'oauth.revoke' ? undefined : ctx.xAccountId;
      const have = existing.find((a) => a.event_type === eventType && a.filter.user_id === userId);
      if (have) {
        ctx.out(`Already subscribed: ${describeActivity(have)}`);
        continue;
      }
      try {
        if (await alreadyDone(() => ctx.api.createActivitySubscription({ eventType, userId, webhookId: hook.id, tag }), 'DuplicateSubscriptionFailed')) {
          ctx.out(`Already subscribed: X says ${eventType} of ${userId ?? 'the app'} already goes to webhook ${hook.id}`);
          continue;
        }
      } catch (err) {
        // Only dm.received carries the DMs; the others are notices an app may not have access to.
        if (eventType === 'dm.received') throw err;
        ctx.out(`Not subscribed to ${eventType} (${describeXError(err)}): DMs still arrive; run subscribe again once the app has access.`);
        continue;
      }
      ctx.out(`Subscribed ${eventType}${userId ? ` of account ${userId}` : ''} to webhook ${hook.id} (X Activity API, tag ${tag})`);
    }
    return true;
  },

  async unsubscribe(ctx) {
    const hook = await targetWebhook(ctx, await ctx.api.listWebhooks());
    if (!hook) return false;
    if ((ctx.feedApi ?? 'xaa') === 'aaa') {
      if (!(await ctx.api.listSubscriptions(hook.id)).includes(ctx.xAccountId)) {
        ctx.out(`Not subscribed: account ${ctx.xAccountId} has no Account Activity subscription on webhook ${hook.id}.`);
        return true;
      }
      await ctx.api.unsubscribe(hook.id, ctx.xAccountId);
      ctx.out(`Unsubscribed account ${ctx.xAccountId} from webhook ${hook.id} (Account Activity API).`);
      return true;
    }
    const tag = subscriptionTag(ctx.tenant);
    const ours = (await ctx.api.listActivitySubscriptions()).filter((a) => a.webhook_id === hook.id && (a.tag === tag || a.filter.user_id === ctx.xAccountId));
    if (!ours.length) ctx.out(`Not subscribed: no X Activity API subscription of tenant ${ctx.tenant} on webhook ${hook.id}.`);
    for (const a of ours) {
      await ctx.api.deleteActivitySubscription(a.subscription_id);
      ctx.out(`Deleted X Activity API subscription ${describeActivity(a)}`);
    }
    return true;
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
    const mine = hooks.filter((w) => !url || w.url === url);
    let healthy = mine.some((h) => h.valid);
    const activity = mine.length ? await ctx.api.listActivitySubscriptions() : [];
    for (const h of mine) {
      const users = await ctx.api.listSubscriptions(h.id);
      ctx.out(`Account Activity API subscriptions of webhook ${h.id}: ${users.length ? users.join(', ') : 'none'}`);
      const xaa = activity.filter((a) => a.webhook_id === h.id);
      ctx.out(`X Activity API subscriptions of webhook ${h.id}: ${xaa.length ? '' : 'none'}`);
      for (const a of xaa) ctx.out(`  ${describeActivity(a)}`);
      const viaXaa = xaa.some((a) => a.event_type === 'dm.received' && a.filter.user_id === ctx.xAccountId);
      if (!users.includes(ctx.xAccountId) && !viaXaa) {
        ctx.out(`  the tenant's account ${ctx.xAccountId} is not subscribed: run subscribe --api xaa (or aaa)`);
        healthy = false;
      }
    }
    if (url) {
      const crc = await (ctx.crcCheck ?? crcSelfCheck)(url, ctx.keys.consumerSecret);
      ctx.out(`CRC check now (as X runs it) against ${url}: ${crc.message}`);
      healthy &&= crc.ok;
    }
    if (!hooks.length) ctx.out(`Nothing registered. Run: npm run x -- register --tenant ${ctx.tenant}`);
    return healthy;
  },

  async revalidate(ctx) {
    const hook = await targetWebhook(ctx, await ctx.api.listWebhooks());
    return hook ? revalidate(ctx, hook) : false;
  },

  async replay(ctx) {
    if (!ctx.replayFrom || !ctx.replayTo) {
      ctx.out('replay needs --from and --to (ISO times, at most 24 h back)');
      return false;
    }
    const checked = replayWindow(Date.parse(ctx.replayFrom), Date.parse(ctx.replayTo), (ctx.now ?? Date.now)());
    if (!checked.ok) {
      ctx.out(`Not asking X for a replay: ${checked.reason}.`);
      return false;
    }
    const hook = await targetWebhook(ctx, await ctx.api.listWebhooks());
    if (!hook) return false;
    const job = await ctx.api.replay(hook.id, checked.window);
    ctx.out(`Replay job ${job.jobId} created at ${job.createdAt}: X re-delivers to ${hook.url} the events of ${checked.window.fromDate}–${checked.window.toDate} (UTC, yyyymmddhhmm); the bridge forwards each DM once.`);
    return true;
  },

  async unregister(ctx) {
    const hook = await targetWebhook(ctx, await ctx.api.listWebhooks());
    if (!hook) return false;
    const deleted = await ctx.api.deleteWebhook(hook.id);
    ctx.out(deleted ? `Deleted webhook ${hook.id} (${hook.url}): X answered deleted: true.` : `X did not delete webhook ${hook.id} (deleted: false).`);
    return deleted;
  },
};

/** Fields of the secret that are no secret and that lines may name: the user context chosen, a token's expiry and scopes, a key version. */
const NOT_SECRET = new Set(['userAuth', 'expiresAt', 'scope', 'publicKeyVersion']);

/** Every secret string the secret holds, nested ones (the OAuth 2.0 tokens) too. */
function secretStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => (NOT_SECRET.has(key) ? [] : secretStrings(v)));
}

/** Replaces any key value that would appear in a line: the last guard against printing a secret. */
export function redactor(keys: XKeys): (line: string) => string {
  const values = secretStrings(keys).filter((v) => v.length >= 4);
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
