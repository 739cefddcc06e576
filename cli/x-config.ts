import { z } from 'zod';
import { ConfigurationError } from '../functions/core/errors';
import { formatZodIssues } from '../functions/core/zod-issues';

/**
 * The X webhook CLI's environment, validated in one place. Keys given here (all four, for local
 * use) take precedence over the tenant's Secrets Manager secret.
 */
const envSchema = z.object({
  X_CONSUMER_KEY: z.string().min(1).optional(),
  X_CONSUMER_SECRET: z.string().min(1).optional(),
  X_ACCESS_TOKEN: z.string().min(1).optional(),
  X_ACCESS_TOKEN_SECRET: z.string().min(1).optional(),
  X_BEARER_TOKEN: z.string().min(1).optional(),
  X_API_BASE_URL: z.string().url().default('https://api.x.com'),
  /** `authorize`: the X app's OAuth 2.0 client. */
  X_OAUTH2_CLIENT_ID: z.string().min(1).optional(),
  X_OAUTH2_CLIENT_SECRET: z.string().min(1).optional(),
  /** `authorize` against the X simulator: its authorize page instead of x.com's. */
  X_OAUTH2_AUTHORIZE_URL: z.string().url().optional(),
});

export interface XKeys {
  consumerKey: string;
  consumerSecret: string;
  /** OAuth 1.0a user context; a tenant on OAuth 2.0 (userAuth "oauth2") has none. */
  accessToken?: string;
  accessTokenSecret?: string;
  bearerToken?: string;
}

export interface XCliConfig {
  apiBaseUrl: string;
  /** Keys from the environment, or undefined to read the tenant's secret. */
  envKeys?: XKeys;
  oauth2Client?: { clientId: string; clientSecret?: string };
  authorizeUrl?: string;
}

class XCliConfigError extends ConfigurationError {}

export function parseXCliConfig(env: Record<string, string | undefined>): XCliConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new XCliConfigError(`invalid environment: ${formatZodIssues(parsed.error)}`);
  }
  const e = parsed.data;
  const four = { X_CONSUMER_KEY: e.X_CONSUMER_KEY, X_CONSUMER_SECRET: e.X_CONSUMER_SECRET, X_ACCESS_TOKEN: e.X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET: e.X_ACCESS_TOKEN_SECRET };
  const missing = Object.entries(four).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length > 0 && missing.length < 4) {
    throw new XCliConfigError(`set all of X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET or none of them (missing: ${missing.join(', ')})`);
  }
  return {
    apiBaseUrl: e.X_API_BASE_URL.replace(/\/+$/, ''),
    oauth2Client: e.X_OAUTH2_CLIENT_ID ? { clientId: e.X_OAUTH2_CLIENT_ID, clientSecret: e.X_OAUTH2_CLIENT_SECRET } : undefined,
    authorizeUrl: e.X_OAUTH2_AUTHORIZE_URL,
    envKeys:
      missing.length === 0
        ? { consumerKey: e.X_CONSUMER_KEY!, consumerSecret: e.X_CONSUMER_SECRET!, accessToken: e.X_ACCESS_TOKEN!, accessTokenSecret: e.X_ACCESS_TOKEN_SECRET!, bearerToken: e.X_BEARER_TOKEN }
        : undefined,
  };
}
