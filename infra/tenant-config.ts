import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_OUTAGE_WAIT_HOURS, fourbizCallsPerRecord, fourbizSettingsSchema, isLoopbackHttp, RECORD_MARGIN_MS } from '../functions/config';
import { FAILURE_POLICY_MAX_SECONDS } from '../functions/core/failure-policy';
import { QUEUE_RETENTION_SECONDS } from '../functions/core/queue-limits';

/** Lambda's maximum timeout. */
const lambdaMaxTimeoutSeconds = 900;

/**
 * A queue's visibility timeout, which is also its consumer's time budget: the consumer's Lambda
 * timeout is a sixth of it (AWS's advice), so above 6 × 900 s the function could not be created.
 */
/**
 * The queues have no redrive policy (only the consumers' failure policy moves a message to the
 * DLQ): on FIFO every message received behind a failing one counts a receive too, so SQS's
 * receive count would send DMs never tried to the DLQ (docs/deploy.md).
 */
const maxReceiveCountRetired = z
  .unknown()
  .superRefine((value, ctx) => {
    if (value !== undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'maxReceiveCount is gone: the queues have no redrive policy (SQS would dead-letter DMs that only waited behind a failing one); remove it',
      });
    }
  })
  .optional()
  .transform(() => undefined);

/** A day of the queue's retention kept free: an operator's time to see the alarm and act. */
const RETENTION_SPARE_SECONDS = 24 * 3600;

/** The longest outage wait the queues' retention leaves room for, in whole hours. */
export const MAX_OUTAGE_WAIT_HOURS = Math.floor((QUEUE_RETENTION_SECONDS - RETENTION_SPARE_SECONDS - FAILURE_POLICY_MAX_SECONDS - 6 * lambdaMaxTimeoutSeconds) / 3600);

const visibilityTimeout = z
  .number()
  .int()
  .min(60)
  .max(6 * lambdaMaxTimeoutSeconds, `at most ${6 * lambdaMaxTimeoutSeconds} (6 × Lambda's ${lambdaMaxTimeoutSeconds} s maximum timeout, as the consumer's timeout is a sixth of it)`)
  .default(180);

/**
 * One source of truth for a tenant's configuration: `tenants/NAME.json`, validated here, read by
 * the CDK app (and by the local runner and the operator CLIs). Secrets never live in this file.
 */
export const tenantConfigSchema = z
  .object({
    /** Lower-case letters, digits and dashes: it names the stack and its resources. */
    name: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, 'lower-case letters, digits and dashes, 2-31 chars'),
    /** Pins the stack to this account (12 digits); without it, the account of the operator's credentials. */
    account: z.string().regex(/^\d{12}$/, '12 digits').optional(),
    /** Required: the stack goes to this region, never to whatever the operator's CLI points at. */
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as sa-east-1'),
    /** The company's X account id (the `for_user_id` of its deliveries). */
    xAccountId: z.string().regex(/^\d+$/),
    logRetentionDays: z.number().int().positive().default(30),
    api: z
      .object({
        // API Gateway's default account-level limits per region: a stage cannot exceed them.
        throttlingRateLimit: z.number().positive().max(10_000).default(50),
        throttlingBurstLimit: z.number().int().positive().max(5_000).default(100),
      })
      .strict()
      .default({}),
    inbound: z
      .object({
        maxReceiveCount: maxReceiveCountRetired,
        /**
         * How long DMs wait for a 4biz outage (the outage circuit open) without spending their
         * attempts; after that they count again. Kept inside the queue's 14-day retention with
         * the failure policy's own time and a day to spare.
         */
        outageWaitHours: z
          .number()
          .int()
          .min(1)
          .max(MAX_OUTAGE_WAIT_HOURS, `at most ${MAX_OUTAGE_WAIT_HOURS}: the wait, then the DM's own attempts (${FAILURE_POLICY_MAX_SECONDS / 3600} h) and a day to spare must fit the queue's 14-day retention`)
          .default(DEFAULT_OUTAGE_WAIT_HOURS),
        /** Also the dispatcher's time budget: its Lambda timeout is a sixth of this (AWS's advice). */
        visibilityTimeoutSeconds: visibilityTimeout,
        batchSize: z.number().int().min(1).max(10).default(10),
        maxConcurrency: z.number().int().min(2).max(1000).default(10),
      })
      .strict()
      .default({}),
    outbound: z
      .object({
        maxReceiveCount: maxReceiveCountRetired,
        visibilityTimeoutSeconds: visibilityTimeout,
      })
      .strict()
      .default({}),
    conversationIdleMinutes: z.number().int().min(1).max(60 * 24 * 30).default(60),
    /** How X reaches the bridge: its webhook (Account Activity / X Activity), or polling its DM lookup. */
    x: z
      .object({
        ingestion: z.enum(['webhook', 'poll']).default('webhook'),
        /** X allows 15 DM lookups per 15 minutes per user; EventBridge schedules in whole minutes. */
        pollIntervalSeconds: z
          .number()
          .int()
          .min(60, 'at least 60: X allows 15 DM lookups per 15 minutes per user')
          .max(3600)
          .refine((s) => s % 60 === 0, 'a whole number of minutes (60, 120, …): the schedule runs in minutes')
          .default(60),
        /** First poll only: how many minutes of DM history go to 4biz (0: none; X keeps 30 days). */
        pollBackfillMinutes: z.number().int().min(0).max(30 * 24 * 60).default(0),
        /**
         * Optional: what the tenant may spend at X a month (US$, pay-per-use). The XSpend alarm fires
         * when a day's billable calls, counted by the bridge, would spend more than a 30th of it.
         */
        monthlyBudgetUsd: z.number().positive().max(1_000_000).optional(),
        /**
         * Read and answer XChat (X's encrypted chats) with the company's keys (docs/xchat.md): needs
         * webhook ingestion with the X Activity API (`chat.received`) and the keys in the tenant secret.
         */
        xchat: z.boolean().default(false),
      })
      .strict()
      .default({}),
    fourbiz: fourbizSettingsSchema,
    alarms: z
      .object({
        /** E-mail addresses subscribed to the tenant's alarm topic. */
        emails: z.array(z.string().email()).default([]),
        oldestMessageAgeSeconds: z.number().int().positive().default(300),
        fourbizErrorRatePercent: z.number().positive().max(100).default(10),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.x.xchat && t.x.ingestion !== 'webhook') {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['x', 'xchat'], message: 'XChat arrives only through the webhook (X Activity API chat.received): set x.ingestion to "webhook"' });
    }
    const url = t.fourbiz.mode === 'relay' ? t.fourbiz.callbackUrl : t.fourbiz.baseUrl;
    if (url && isLoopbackHttp(url)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['fourbiz', t.fourbiz.mode === 'relay' ? 'callbackUrl' : 'baseUrl'], message: 'a deployed bridge talks to 4biz over https only' });
    }
    // A record must be able to finish within one invocation, or the dispatcher never starts one.
    const calls = fourbizCallsPerRecord(t.fourbiz.mode);
    const functionTimeoutMs = dispatcherTimeoutSeconds(t) * 1000;
    const needMs = calls * t.fourbiz.timeoutMs + RECORD_MARGIN_MS;
    if (needMs > functionTimeoutMs) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['fourbiz', 'timeoutMs'],
        message:
          `fourbiz.timeoutMs (${t.fourbiz.timeoutMs} ms) × ${calls} call(s) per DM in ${t.fourbiz.mode} mode + ${RECORD_MARGIN_MS} ms margin = ${needMs} ms ` +
          `does not fit the dispatcher timeout of ${functionTimeoutMs} ms (inbound.visibilityTimeoutSeconds ${t.inbound.visibilityTimeoutSeconds} / 6): ` +
          `lower fourbiz.timeoutMs or raise inbound.visibilityTimeoutSeconds to at least ${Math.ceil(needMs / 1000) * 6}`,
      });
    }
  });

/** AWS's advice: the queue's visibility timeout is at least six times the function timeout; so the function gets a sixth. */
export function dispatcherTimeoutSeconds(t: { inbound: { visibilityTimeoutSeconds: number } }): number {
  return Math.floor(t.inbound.visibilityTimeoutSeconds / 6);
}

export type TenantConfig = z.infer<typeof tenantConfigSchema>;

export class TenantConfigError extends Error {}

export const tenantsDir = join(__dirname, '..', 'tenants');

/** Loads and validates `tenants/NAME.json`; throws a one-line TenantConfigError naming the file. */
export function loadTenantConfig(name: string, dir = tenantsDir): TenantConfig {
  const file = join(dir, `${name}.json`);
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new TenantConfigError(`invalid tenant name "${name}"`);
  if (!existsSync(file)) throw new TenantConfigError(`tenant file not found: ${file}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TenantConfigError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = tenantConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new TenantConfigError(`${file}: ${issues}`);
  }
  if (parsed.data.name !== name) throw new TenantConfigError(`${file}: "name" is "${parsed.data.name}", expected "${name}"`);
  return parsed.data;
}
