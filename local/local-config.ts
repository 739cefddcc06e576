import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * `npm start`'s configuration: the environment, with a git-ignored `.env` (KEY=VALUE lines)
 * filling what the environment leaves unset. Anything not given falls back to the simulators and
 * the development keys (see docs/local-mode.md).
 */

/** KEY=VALUE lines; `#` comments, blank lines, `export ` prefixes and matching quotes allowed. */
function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2]!;
    else value = value.replace(/\s+#.*$/, '');
    out[match[1]!] = value;
  }
  return out;
}

/** The environment over the `.env` file: a variable set in the shell wins. */
export function environmentWithDotEnv(env: Record<string, string | undefined>, dotEnvPath: string): Record<string, string | undefined> {
  if (!existsSync(dotEnvPath)) return { ...env };
  return { ...parseDotEnv(readFileSync(dotEnvPath, 'utf8')), ...env };
}

const optional = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const optionalUrl = optional.pipe(z.string().url().optional());

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  TENANT: optional,
  X_CONSUMER_KEY: optional,
  X_CONSUMER_SECRET: optional,
  X_ACCESS_TOKEN: optional,
  X_ACCESS_TOKEN_SECRET: optional,
  X_BEARER_TOKEN: optional,
  X_API_BASE_URL: optionalUrl,
  FOURBIZ_MODE: optional.pipe(z.enum(['relay', 'tickets']).optional()),
  FOURBIZ_CALLBACK_URL: optionalUrl,
  FOURBIZ_BASE_URL: optionalUrl,
  FOURBIZ_USER: optional,
  FOURBIZ_PASSWORD: optional,
  POLL_INTERVAL_SECONDS: z.coerce.number().positive().default(3),
  /** How X reaches the bridge: the tenant file's x.ingestion unless set here. */
  X_INGESTION: optional.pipe(z.enum(['webhook', 'poll']).optional()),
  /** Polling mode: how often the DM poller reads X (any positive value locally; the stack needs ≥ 60). */
  X_POLL_INTERVAL_SECONDS: z.coerce.number().positive().default(5),
  /** Read and answer XChat (the tenant's x.xchat unless set here); with the X simulator only. */
  XCHAT: optional.pipe(z.enum(['true', 'false']).optional()),
});

export interface LocalSettings {
  port: number;
  tenant?: string;
  fourbizMode?: 'relay' | 'tickets';
  /** All four X keys, or none (then the development keys and the X simulator). */
  x?: { consumerKey: string; consumerSecret: string; accessToken: string; accessTokenSecret: string; bearerToken?: string };
  xApiBaseUrl?: string;
  fourbizCallbackUrl?: string;
  fourbizBaseUrl?: string;
  fourbizUser?: string;
  fourbizPassword?: string;
  pollIntervalMs: number;
  xIngestion?: 'webhook' | 'poll';
  xPollIntervalMs: number;
  xchat?: boolean;
}

export class LocalConfigError extends Error {}

export function parseLocalSettings(env: Record<string, string | undefined>): LocalSettings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new LocalConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const e = parsed.data;
  const xKeys = [e.X_CONSUMER_KEY, e.X_CONSUMER_SECRET, e.X_ACCESS_TOKEN, e.X_ACCESS_TOKEN_SECRET];
  const given = xKeys.filter(Boolean).length;
  if (given > 0 && given < 4) throw new LocalConfigError('set all of X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET, or none');
  if (e.X_API_BASE_URL && given === 0) throw new LocalConfigError('X_API_BASE_URL needs the X keys (X_CONSUMER_KEY, …) too');
  if (e.FOURBIZ_BASE_URL && !(e.FOURBIZ_USER && e.FOURBIZ_PASSWORD)) throw new LocalConfigError('FOURBIZ_BASE_URL needs FOURBIZ_USER and FOURBIZ_PASSWORD');
  const mode = e.FOURBIZ_MODE ?? (e.FOURBIZ_BASE_URL ? 'tickets' : e.FOURBIZ_CALLBACK_URL ? 'relay' : undefined);
  if (mode === 'relay' && e.FOURBIZ_BASE_URL) throw new LocalConfigError('FOURBIZ_BASE_URL is for tickets mode; relay mode uses FOURBIZ_CALLBACK_URL');
  if (mode === 'tickets' && e.FOURBIZ_CALLBACK_URL) throw new LocalConfigError('FOURBIZ_CALLBACK_URL is for relay mode; tickets mode uses FOURBIZ_BASE_URL');
  return {
    port: e.PORT,
    tenant: e.TENANT,
    fourbizMode: mode,
    x:
      given === 4
        ? { consumerKey: e.X_CONSUMER_KEY!, consumerSecret: e.X_CONSUMER_SECRET!, accessToken: e.X_ACCESS_TOKEN!, accessTokenSecret: e.X_ACCESS_TOKEN_SECRET!, bearerToken: e.X_BEARER_TOKEN }
        : undefined,
    xApiBaseUrl: e.X_API_BASE_URL,
    fourbizCallbackUrl: e.FOURBIZ_CALLBACK_URL,
    fourbizBaseUrl: e.FOURBIZ_BASE_URL,
    fourbizUser: e.FOURBIZ_USER,
    fourbizPassword: e.FOURBIZ_PASSWORD,
    pollIntervalMs: Math.round(e.POLL_INTERVAL_SECONDS * 1000),
    xIngestion: e.X_INGESTION,
    xPollIntervalMs: Math.round(e.X_POLL_INTERVAL_SECONDS * 1000),
    xchat: e.XCHAT === undefined ? undefined : e.XCHAT === 'true',
  };
}
