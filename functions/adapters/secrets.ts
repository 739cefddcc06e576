import { readFile, rename, writeFile } from 'node:fs/promises';
import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { consumerSecretSchema, secretFieldsHint, tenantSecretSchema, type ConsumerSecret, type TenantSecret } from '../config';
import { ConfigurationError, SecretNotFilledError } from '../core/errors';
import { formatZodIssues } from '../core/zod-issues';

/** The tenant's secret, read once per container and re-read when a caller saw it fail. */
export interface SecretSource {
  get(): Promise<TenantSecret>;
  /** Drops the cached value: the next get() reads it again (keys rotated, or a stale read). */
  invalidate(): void;
}

/** The X consumer secret alone: what the internet-facing crc and webhook functions read. */
export interface ConsumerSecretSource {
  get(): Promise<ConsumerSecret>;
  invalidate(): void;
}

/** A secret the bridge also writes: X's rotated OAuth 2.0 tokens (Secrets Manager, the local file, tests). */
export interface WritableSecretSource extends SecretSource {
  /**
   * Writes fields into the secret (re-read first, every other field kept as stored): X's rotated
   * OAuth 2.0 tokens. Resolves with the value now stored; get() returns it from then on.
   */
  update(fields: Partial<TenantSecret>): Promise<TenantSecret>;
}

/** The secret exists but cannot be used as it is (not JSON, fields missing): someone must fix it. */
class SecretError extends ConfigurationError {}

/** The one hint for a secret nobody filled yet, whichever way it shows. */
const notFilled = (where: string, cause?: unknown) =>
  new SecretNotFilledError(`${where} is empty: fill it with the documented JSON shape (docs/deploy.md, "Filling the secret")`, { cause });

/** The secret's JSON text, parsed: an absent or empty one was never filled. */
function secretJson(text: string | undefined, where: string): unknown {
  if (!text) throw notFilled(where);
  try {
    return JSON.parse(text);
  } catch {
    throw new SecretError(`${where} is not valid JSON`);
  }
}

function parseSecret(text: string | undefined, where: string): TenantSecret {
  const json = secretJson(text, where);
  const parsed = tenantSecretSchema.safeParse(json);
  if (!parsed.success) {
    // Only the field names, never the values; what the user context chosen needs, when that is the problem.
    const hint = secretFieldsHint((json as { userAuth?: unknown } | null)?.userAuth, parsed.error.issues.map((i) => i.path.join('.')));
    throw new SecretError(`${where} is missing or has invalid fields: ${formatZodIssues(parsed.error, { pathsOnly: true })}${hint ? ` (${hint})` : ''}`);
  }
  return parsed.data;
}

/** Where a secret's raw JSON text is read from and written to. */
interface SecretText {
  where: string;
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

/** A value read once and kept until invalidated; a failed read is not kept. */
function cached<T>(load: () => Promise<T>) {
  let pending: Promise<T> | undefined;
  return {
    get() {
      pending ??= load().catch((err: unknown) => {
        pending = undefined;
        throw err;
      });
      return pending;
    },
    set(value: T) {
      pending = Promise.resolve(value);
    },
    invalidate() {
      pending = undefined;
    },
  };
}

function cachedSource(store: SecretText): WritableSecretSource {
  const value = cached(async () => parseSecret(await store.read(), store.where));
  return {
    async update(fields) {
      const text = await store.read();
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(text ?? '{}') as Record<string, unknown>;
      } catch {
        throw new SecretError(`${store.where} is not valid JSON`);
      }
      const next = JSON.stringify({ ...raw, ...fields });
      const parsed = parseSecret(next, store.where);
      await store.write(next);
      value.set(parsed);
      return parsed;
    },
    get: value.get,
    invalidate: value.invalidate,
  };
}

function secretsManagerText(client: SecretsManagerClient, secretArn: string): SecretText {
  const where = `secret ${secretArn}`;
  return { where, read: async () => {
    let out;
    try {
      out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    } catch (err) {
      // A secret created empty has no AWSCURRENT version: Secrets Manager answers ResourceNotFoundException
      // ("can't find the specified secret value for staging label: AWSCURRENT"), not an empty string.
      if (err instanceof ResourceNotFoundException && /AWSCURRENT|staging label|secret value/i.test(err.message)) throw notFilled(where, err);
      throw err;
    }
    return out.SecretString;
  }, write: async (text) => {
    await client.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: text }));
  } };
}

export function secretsManagerSource(client: SecretsManagerClient, secretArn: string): WritableSecretSource {
  return cachedSource(secretsManagerText(client, secretArn));
}

function fileText(path: string): SecretText {
  return {
    where: `secrets file ${path}`,
    read: () => readFile(path, 'utf8'),
    // Whole or not at all: a reader never sees half a file.
    write: async (text) => {
      await writeFile(`${path}.tmp`, text, { mode: 0o600 });
      await rename(`${path}.tmp`, path);
    },
  };
}

/** Local mode and tests: the same JSON shape in a file kept out of git. */
export function fileSecretSource(path: string): WritableSecretSource {
  return cachedSource(fileText(path));
}

export function staticSecretSource(secret: TenantSecret): WritableSecretSource {
  let value = tenantSecretSchema.parse(secret);
  return {
    get: async () => value,
    invalidate: () => undefined,
    async update(fields) {
      value = tenantSecretSchema.parse({ ...value, ...fields });
      return value;
    },
  };
}

/** From the runtime config: a file when SECRETS_FILE is set, else Secrets Manager. */
export function secretSourceFor(secret: { arn?: string; file?: string }): WritableSecretSource {
  if (secret.file) return fileSecretSource(secret.file);
  if (!secret.arn) throw new SecretError('no secret configured');
  return secretsManagerSource(new SecretsManagerClient({}), secret.arn);
}

/**
 * The consumer secret alone (`{"consumerSecret":"…"}`): deployed, the tenant's consumer-secret
 * secret, which holds nothing else; locally, the tenant's secrets file (only that field is read).
 */
export function consumerSecretSourceFor(secret: { arn?: string; file?: string }, client?: SecretsManagerClient): ConsumerSecretSource {
  if (!secret.file && !secret.arn) throw new SecretError('no consumer secret configured');
  const store = secret.file ? fileText(secret.file) : secretsManagerText(client ?? new SecretsManagerClient({}), secret.arn!);
  return cached(async () => parseConsumerSecret(await store.read(), store.where));
}

function parseConsumerSecret(text: string | undefined, where: string): ConsumerSecret {
  const parsed = consumerSecretSchema.safeParse(secretJson(text, where));
  if (!parsed.success) throw new SecretError(`${where} is missing or has invalid fields: ${formatZodIssues(parsed.error, { pathsOnly: true })}`);
  return parsed.data;
}
