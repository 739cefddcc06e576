import { z } from 'zod';
import { ConfigurationError } from './core/errors';
import { DEFAULT_CUSTOMER_VISIBLE_CATEGORIES } from './core/reply-sync';
import { DEFAULT_ANSWER_MAX_PARTS } from './core/reply-format';
import { xUserIdSchema } from './core/x-users';
import { formatZodIssues } from './core/zod-issues';

/**
 * Typed runtime configuration. Config flows one way: tenant file → CDK → environment variables
 * (and the tenant secret) → here. No other module reads process.env (the AWS SDK and Powertools
 * read their own standard variables, e.g. AWS_ENDPOINT_URL_SQS, POWERTOOLS_LOG_LEVEL).
 */
/** Loopback hosts, `*.localhost` included (RFC 6761: it always resolves to loopback; the local SQS URLs use it). */
const LOOPBACK_HOSTS = /^((?:[a-z0-9-]+\.)*localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;
/** Link-local and cloud metadata addresses: a 4biz URL there would hand our credentials and DMs to the host itself. */
const FORBIDDEN_HOSTS = /^(169\.254(?:\.\d{1,3}){2}|\[fe[89ab][0-9a-f]?:[^\]]*\]|\[fd00:ec2::254\]|0\.0\.0\.0|\[::\]|metadata\.google\.internal)$/i;

/** True for a plain-http URL on a loopback host: allowed only in local mode (see parseRuntimeConfig). */
export function isLoopbackHttp(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const u = new URL(url);
  return u.protocol === 'http:' && LOOPBACK_HOSTS.test(u.hostname);
}

/**
 * A 4biz URL: https, or plain http on a loopback host (the local simulators); never a link-local
 * or metadata address. Deploys refuse even loopback http (infra/tenant-config.ts).
 */
const fourbizUrlSchema = z
  .string()
  .url()
  .superRefine((value, ctx) => {
    if (!URL.canParse(value)) return; // .url() reports it
    const u = new URL(value);
    if (FORBIDDEN_HOSTS.test(u.hostname)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${u.hostname} is a link-local or metadata address` });
    else if (u.protocol !== 'https:' && !isLoopbackHttp(value)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be https: (plain http only on loopback, in local mode)' });
  });

const relaySettingsSchema = z.object({
  mode: z.literal('relay'),
  /** The Omnichannel interaction's "URL de retorno de chamada". */
  callbackUrl: fourbizUrlSchema,
  timeoutMs: z.number().int().min(100).max(30_000).default(5_000),
});

/** A tenant-file field 4biz's documented API has no use for: one line naming what replaces it. */
const retired = (message: string) =>
  z
    .unknown()
    .superRefine((value, ctx) => {
      if (value !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    })
    .optional()
    .transform(() => undefined);

/** 4biz's urgency and impact: H(igh), M(edium), L(ow). */
const level = z.enum(['H', 'M', 'L'], { errorMap: () => ({ message: 'must be "H", "M" or "L" (4biz\'s high, medium, low)' }) });

/**
 * tickets mode. Field names follow 4biz's documented `request/create` (see
 * docs/4biz-api.md, which cites 4biz's webservice pages): contractID, service {code}, groupId (the
 * executing group's acronym), urgency, impact.
 */
export const ticketsSettingsSchema = z.object({
  mode: z.literal('tickets'),
  /** 4biz base URL, e.g. https://empresa.4biz.one/4biz (the REST services live under /services). */
  baseUrl: fourbizUrlSchema,
  platform: z.string().min(1).default('4biz-twitter-dm'),
  /** Sent as `contractID`; without it 4biz uses its default contract. */
  contractId: z.number().int().positive().optional(),
  /** Sent as `service: {code}`; without it 4biz uses the web service's default service. */
  serviceCode: z.string().min(1).optional(),
  /** The executing group's acronym (sent as `groupId`); without it 4biz's default routing applies. */
  groupId: z
    .string({ invalid_type_error: 'groupId is now the executing group\'s acronym (a string such as "N1-ATENDIMENTO"), not its numeric id' })
    .min(1)
    .optional(),
  /** `R` (request) or `I` (incident). */
  requestType: z.enum(['R', 'I']).default('R'),
  urgency: level.default('M'),
  impact: level.default('M'),
  occurrenceCategory: z.string().min(1).default('Memorando'),
  occurrenceReason: z.string().min(1).default('Mensagem do solicitante via X'),
  /**
   * Occurrence categories sent to the person; every other category (Diagnostico, Memorando, …) and
   * an occurrence without one stays in 4biz. docs/tickets-mode.md explains the default.
   */
  customerVisibleCategories: z.array(z.string().trim().min(1)).min(1).default(DEFAULT_CUSTOMER_VISIBLE_CATEGORIES),
  /**
   * The last DM of a finished request when 4biz's answer carries no solution text; `{number}` is
   * replaced by the request number. Default: a Portuguese message naming the request.
   */
  closingMessage: z.string().min(1).max(2_000).optional(),
  /** DM photos, GIFs and videos larger than this stay a link in the text instead of an attachment. */
  mediaMaxBytes: z.number().int().min(1).max(50 * 1024 * 1024).default(5 * 1024 * 1024),
  /** Most DMs one answer becomes; a longer answer ends with where to read it whole in 4biz. */
  answerMaxParts: z.number().int().min(1).max(10).default(DEFAULT_ANSWER_MAX_PARTS),
  /** Largest 4biz answer read (bytes); a larger one fails that call, counted as FourbizAnswerTooLarge. */
  responseMaxBytes: z.number().int().min(64 * 1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
  pollScheduleMinutes: z.number().int().min(1).max(60).default(1),
  timeoutMs: z.number().int().min(100).max(30_000).default(5_000),
  activityId: retired('activityId is gone: 4biz\'s request/create has no activity field, put the service\'s code in serviceCode instead'),
  unitId: retired('unitId is gone: 4biz\'s request/create has no unit field (4biz takes the unit from the requester), remove it'),
  originId: retired('originId is gone: 4biz\'s request/create has no origin field (4biz records where a call came from itself), remove it'),
}).strict();

/** How long a DM waits for a 4biz outage without spending attempts, unless the tenant file says otherwise. */
export const DEFAULT_OUTAGE_WAIT_HOURS = 96;

/** Time one record needs besides its 4biz calls (table reads and writes, the queue). */
export const RECORD_MARGIN_MS = 2_000;

/**
 * 4biz calls one record may need, each up to `timeoutMs`: relay one POST; tickets, on its usual
 * path, a login after an expired session, the request's status, the write, the DM's media download
 * and its attachment (an answer of 412 is quick: the repeat replaces the refused call). The rarer
 * look-ups after a timed-out write can run out of time; the record is then retried, and those
 * paths look before they write. The dispatcher's time reserve and the tenant schema's time budget
 * both use it.
 */
export function fourbizCallsPerRecord(mode: 'relay' | 'tickets'): number {
  return mode === 'relay' ? 1 : 5;
}

/** The poller's Lambda timeout (and lease): one poll ends before the next scheduled one starts. */
export function pollerTimeoutSeconds(settings: Pick<TicketsSettings, 'pollScheduleMinutes'>): number {
  return Math.min(settings.pollScheduleMinutes * 60 - 10, 900);
}

export const fourbizSettingsSchema = z.discriminatedUnion('mode', [relaySettingsSchema, ticketsSettingsSchema]);
export type FourbizSettings = z.infer<typeof fourbizSettingsSchema>;
export type RelaySettings = z.infer<typeof relaySettingsSchema>;
export type TicketsSettings = z.infer<typeof ticketsSettingsSchema>;

/** OAuth 2.0 user context of the company account: the X app's OAuth 2.0 client and X's tokens (rotated on refresh). */
const oauth2TokensSchema = z.object({
  clientId: z.string().min(1),
  /** Confidential clients only; a public client has none. */
  clientSecret: z.string().min(1).optional(),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  /** When the access token stops working (X: two hours after it was issued). */
  expiresAt: z.string().datetime(),
  scope: z.string().optional(),
});

/** What every tenant's secret holds, whichever user context it chose. */
const secretCommonSchema = z.object({
  /**
   * The X app's API key and secret: the secret signs the CRC answers and checks X's delivery
   * signatures (and relay mode's signature to 4biz); with the key it fetches the app bearer token
   * and signs OAuth 1.0a requests. Needed with either user context.
   */
  consumerKey: z.string().min(1),
  consumerSecret: z.string().min(1),
  /** App bearer token for X's webhook endpoints (the operator CLI, the webhook-health function); fetched with the consumer key and secret when absent. */
  bearerToken: z.string().min(1).optional(),
  /** tickets mode: the 4biz integration user. */
  fourbizUser: z.string().min(1).optional(),
  fourbizPassword: z.string().min(1).optional(),
  /** XChat (tenant `x.xchat`): the company's private keys as a key blob (`npm run x -- xchat-keys`), and X's version of them. */
  xchat: z
    .object({
      keyBlob: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64'),
      publicKeyVersion: z.string().regex(/^\d{1,32}$/, 'decimal digits'),
    })
    .optional(),
});

/**
 * Which user context calls X as the company account (sending, DM lookup, media, XAA
 * subscriptions), `userAuth`: OAuth 1.0a with the account's access token and secret (the default),
 * or OAuth 2.0 with the tokens `npm run x -- authorize` stores in `oauth2`, where the OAuth 1.0a
 * access token and secret are not needed.
 */
const oauth1aSecretSchema = secretCommonSchema.extend({
  userAuth: z.literal('oauth1a').optional(),
  accessToken: z.string().min(1),
  accessTokenSecret: z.string().min(1),
  oauth2: oauth2TokensSchema.optional(),
});
const oauth2SecretSchema = secretCommonSchema.extend({
  userAuth: z.literal('oauth2'),
  accessToken: z.string().min(1).optional(),
  accessTokenSecret: z.string().min(1).optional(),
  oauth2: oauth2TokensSchema,
});

/** The JSON shape of the tenant's Secrets Manager secret (locally: a git-ignored file), per user context. */
export const tenantSecretSchema = z.discriminatedUnion('userAuth', [oauth1aSecretSchema, oauth2SecretSchema]);

/** Every field a tenant secret may hold, optional when some user context may leave it out (the secret's description in the stack). */
export const tenantSecretFields = (Object.keys(oauth1aSecretSchema.shape) as Array<keyof typeof oauth1aSecretSchema.shape>).map((key) => ({
  key,
  optional: oauth1aSecretSchema.shape[key].isOptional() || oauth2SecretSchema.shape[key].isOptional(),
}));

/** What the fields a secret lacks mean for its user context: the line after the names of the invalid fields. */
export function secretFieldsHint(userAuth: unknown, paths: string[]): string | undefined {
  if (userAuth === 'oauth2' && paths.some((p) => p === 'oauth2' || p.startsWith('oauth2.'))) {
    return 'userAuth "oauth2" needs the oauth2 tokens: run npm run x -- authorize --tenant NAME';
  }
  if (userAuth !== 'oauth2' && paths.some((p) => p === 'accessToken' || p === 'accessTokenSecret')) {
    return 'OAuth 1.0a (userAuth "oauth1a", the default) needs the company account\'s accessToken and accessTokenSecret; for OAuth 2.0 instead run npm run x -- authorize --tenant NAME';
  }
  if (paths.includes('userAuth')) return 'userAuth is "oauth1a" (the default) or "oauth2"';
  return undefined;
}
export type TenantSecret = z.infer<typeof tenantSecretSchema>;

/**
 * The consumer-secret secret: the X app's consumer secret and nothing else, all the internet-facing
 * crc and webhook functions may read (CRC answers, delivery signatures). Locally they read this
 * field of the secrets file.
 */
export const consumerSecretSchema = z.object({ consumerSecret: z.string().min(1) });
export type ConsumerSecret = z.infer<typeof consumerSecretSchema>;

/** Names of the environment variables the stack (and the local runner) sets on the functions. */
export const Env = {
  tenant: 'TENANT',
  secretArn: 'SECRET_ARN',
  /** crc and webhook, deployed: the secret holding only the consumer secret (instead of SECRET_ARN). */
  consumerSecretArn: 'CONSUMER_SECRET_ARN',
  secretsFile: 'SECRETS_FILE',
  inboundQueueUrl: 'INBOUND_QUEUE_URL',
  outboundQueueUrl: 'OUTBOUND_QUEUE_URL',
  tableName: 'TABLE_NAME',
  fourbiz: 'FOURBIZ_SETTINGS',
  conversationIdleMinutes: 'CONVERSATION_IDLE_MINUTES',
  xApiBaseUrl: 'X_API_BASE_URL',
  inboundDlqUrl: 'INBOUND_DLQ_URL',
  retryBaseSeconds: 'RETRY_BASE_SECONDS',
  retryMaxSeconds: 'RETRY_MAX_SECONDS',
  xAccountId: 'X_ACCOUNT_ID',
  maxAttempts: 'MAX_ATTEMPTS',
  outboundDlqUrl: 'OUTBOUND_DLQ_URL',
  /** How long a DM may wait for a 4biz outage without spending attempts (the tenant's inbound.outageWaitHours). */
  outageWaitHours: 'OUTAGE_WAIT_HOURS',
  /** Set by `npm start` only: lets 4biz URLs be plain http on loopback. */
  localMode: 'BRIDGE_LOCAL_MODE',
  webhookUrl: 'WEBHOOK_URL',
  /** Polling mode: how far back the first poll of the company's DMs reaches. */
  pollBackfillMinutes: 'X_POLL_BACKFILL_MINUTES',
  /** XChat on (tenant `x.xchat`): the webhook queues `chat.received` instead of counting and dropping it. */
  xchat: 'XCHAT',
  /** XChat: the KMS key that wraps stored conversation keys (absent locally: a key derived from the key blob). */
  xchatKeyArn: 'XCHAT_KEY_ARN',
} as const;

type Variable = keyof typeof Env;

const json = z.string().transform((s, ctx) => {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'not valid JSON' });
    return z.NEVER;
  }
});

/** Each variable's schema, read from its environment string (numbers coerced, 4biz settings as JSON). */
const variableSchemas = {
  tenant: z.string().min(1),
  secretArn: z.string().min(1),
  consumerSecretArn: z.string().min(1),
  secretsFile: z.string().min(1),
  inboundQueueUrl: z.string().url(),
  outboundQueueUrl: z.string().url(),
  tableName: z.string().min(1),
  fourbiz: json.pipe(fourbizSettingsSchema),
  conversationIdleMinutes: z.coerce.number().int().positive().default(60),
  xApiBaseUrl: z.string().url(),
  /** Where a DM that can never be delivered goes (permanent failure, invalid body). */
  inboundDlqUrl: z.string().url(),
  /** Full-jitter back-off between delivery attempts (via the message's visibility timeout). */
  retryBaseSeconds: z.coerce.number().int().min(0).max(900).default(2),
  retryMaxSeconds: z.coerce.number().int().min(1).max(43_200).default(900),
  /** The tenant's X account (the `for_user_id` of its deliveries). */
  xAccountId: xUserIdSchema,
  /** Failed attempts after which a queue message goes to the DLQ (the failure policy's default otherwise). */
  maxAttempts: z.coerce.number().int().min(1).max(100),
  /** Where the sender puts a reply that can never be sent. */
  outboundDlqUrl: z.string().url(),
  outageWaitHours: z.coerce.number().positive().default(DEFAULT_OUTAGE_WAIT_HOURS),
  localMode: z.enum(['true']).transform(() => true),
  /** The webhook URL registered with X (the webhook-health function finds its webhook by it). */
  webhookUrl: z.string().url(),
  /** Polling mode, first run: how many minutes of DM history are queued. */
  pollBackfillMinutes: z.coerce.number().int().min(0).max(30 * 24 * 60).default(0),
  xchat: z.enum(['true', 'false']).transform((v) => v === 'true'),
  xchatKeyArn: z.string().min(1),
} satisfies Record<Variable, z.ZodTypeAny>;

type Schemas = typeof variableSchemas;

/**
 * The variables each function reads: `required` ones it cannot run without, `optional` ones (a
 * default in the schema, or simply absent). Every function also reads the tenant, its secret
 * (deployed: `SECRET_ARN`, or `CONSUMER_SECRET_ARN` for crc and webhook; locally `SECRETS_FILE`),
 * X's API origin (the simulator locally) and local mode.
 */
const functionVariables = {
  crc: { required: [], optional: ['consumerSecretArn'] },
  webhook: { required: ['tableName', 'inboundQueueUrl', 'xAccountId'], optional: ['consumerSecretArn', 'xchat'] },
  dispatcher: {
    required: ['tableName', 'inboundQueueUrl', 'inboundDlqUrl', 'fourbiz'],
    optional: ['secretArn', 'conversationIdleMinutes', 'retryBaseSeconds', 'retryMaxSeconds', 'maxAttempts', 'pollBackfillMinutes', 'xAccountId', 'xchatKeyArn', 'outageWaitHours'],
  },
  poller: { required: ['tableName', 'outboundQueueUrl', 'fourbiz'], optional: ['secretArn', 'pollBackfillMinutes'] },
  sender: {
    required: ['tableName', 'outboundQueueUrl', 'outboundDlqUrl'],
    optional: ['secretArn', 'retryBaseSeconds', 'retryMaxSeconds', 'maxAttempts', 'pollBackfillMinutes', 'xAccountId', 'xchatKeyArn', 'xchat'],
  },
  'webhook-health': { required: ['tableName', 'webhookUrl'], optional: ['secretArn'] },
  'dm-poller': { required: ['tableName', 'inboundQueueUrl', 'xAccountId'], optional: ['secretArn', 'pollBackfillMinutes'] },
} as const satisfies Record<string, { required: readonly Variable[]; optional: readonly Variable[] }>;

const commonVariables = { required: ['tenant'], optional: ['secretsFile', 'xApiBaseUrl', 'localMode'] } as const;

export type FunctionName = keyof typeof functionVariables;
export const functionNames = Object.keys(functionVariables) as FunctionName[];

type Required<F extends FunctionName> = (typeof functionVariables)[F]['required'][number] | (typeof commonVariables)['required'][number];
type Optional<F extends FunctionName> = (typeof functionVariables)[F]['optional'][number] | (typeof commonVariables)['optional'][number];

/** A function's configuration: its required variables always present, typed; the optional ones as their schema gives them. */
export type FunctionConfig<F extends FunctionName> = { [K in Required<F>]: z.output<Schemas[K]> } & { [K in Optional<F>]?: z.output<Schemas[K]> } & {
  [K in Optional<F> as undefined extends z.output<Schemas[K]> ? never : K]: z.output<Schemas[K]>;
};

/** What the stack or the local runner sets for a function: typed values, written out as its variables. */
export type FunctionEnvironmentValues<F extends FunctionName> = { [K in Required<F>]: Exclude<z.output<Schemas[K]>, undefined> } & {
  [K in Optional<F>]?: Exclude<z.output<Schemas[K]>, undefined>;
};

function schemaFor<F extends FunctionName>(name: F) {
  const spec = functionVariables[name] as { required: readonly Variable[]; optional: readonly Variable[] };
  const shape: Record<string, z.ZodTypeAny> = {};
  for (const v of [...commonVariables.required, ...spec.required]) shape[v] = variableSchemas[v];
  for (const v of [...commonVariables.optional, ...spec.optional]) {
    const schema: z.ZodTypeAny = variableSchemas[v];
    shape[v] = schema instanceof z.ZodDefault ? schema : schema.optional();
  }
  return z
    .object(shape)
    .refine((c) => c.secretArn || c.consumerSecretArn || c.secretsFile, {
      message: `${readsConsumerSecretOnly(name) ? Env.consumerSecretArn : Env.secretArn} or ${Env.secretsFile} is required`,
      path: [readsConsumerSecretOnly(name) ? 'consumerSecretArn' : 'secretArn'],
    })
    .refine((c) => c.localMode === true || c.fourbiz === undefined || !isLoopbackHttp(fourbizUrl(c.fourbiz as FourbizSettings)), {
      message: `plain http 4biz URLs are for local mode only (${Env.localMode})`,
      path: ['fourbiz'],
    });
}

function fourbizUrl(settings: FourbizSettings): string {
  return settings.mode === 'relay' ? settings.callbackUrl : settings.baseUrl;
}

/** Parses the variables function `name` reads from `env`, each under its own name; others are ignored. */
export function parseFunctionConfig<F extends FunctionName>(name: F, env: Record<string, string | undefined>): FunctionConfig<F> {
  const byVariable = Object.fromEntries((Object.keys(Env) as Variable[]).map((v) => [v, env[Env[v]]]));
  const parsed = schemaFor(name).safeParse(byVariable);
  if (!parsed.success) {
    // Issues name the environment variable, as an operator sees it in the Lambda console.
    const issues = parsed.error.issues.map((i) => ({ ...i, path: i.path.map((p, k) => (k === 0 ? Env[p as Variable] : p)) }));
    throw new ConfigurationError(`invalid ${name} function configuration: ${formatZodIssues(new z.ZodError(issues), { root: 'env' })}`);
  }
  return parsed.data as FunctionConfig<F>;
}

/**
 * The environment variables of function `name`, from typed values: one place for the CDK
 * constructs and the local runner, so what the stack sets is what the function parses.
 */
export function functionEnvironment<F extends FunctionName>(name: F, values: FunctionEnvironmentValues<F>): Record<string, string> {
  const spec = functionVariables[name] as { required: readonly Variable[]; optional: readonly Variable[] };
  const allowed = new Set<Variable>([...commonVariables.required, ...commonVariables.optional, ...spec.required, ...spec.optional]);
  const env: Record<string, string> = {};
  for (const [variable, value] of Object.entries(values) as [Variable, unknown][]) {
    if (value === undefined || !allowed.has(variable)) continue;
    env[Env[variable]] = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return env;
}

/** The secret's source: Secrets Manager when deployed, a file locally. */
export const secretOf = (config: { secretArn?: string; secretsFile?: string }) => ({ arn: config.secretArn, file: config.secretsFile });

/** crc and webhook: the consumer secret's source (its own secret deployed, the tenant's file locally). */
export const consumerSecretOf = (config: { consumerSecretArn?: string; secretsFile?: string }) => ({ arn: config.consumerSecretArn, file: config.secretsFile });

/** The internet-facing functions, which may read the consumer secret and not the tenant secret. */
export function readsConsumerSecretOnly(name: FunctionName): boolean {
  return (functionVariables[name].optional as readonly Variable[]).includes('consumerSecretArn');
}

/** The full-jitter back-off settings of a queue consumer. */
export const retryOf = (config: { retryBaseSeconds: number; retryMaxSeconds: number }) => ({ baseSeconds: config.retryBaseSeconds, maxSeconds: config.retryMaxSeconds });

