import { readFile } from 'node:fs/promises';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { tenantSecretSchema, type TenantSecret } from '../config';
import { ConfigurationError, SecretNotFilledError } from '../core/errors';
import { formatZodIssues } from '../core/zod-issues';

/** The tenant's secret, read once per container and re-read when a caller saw it fail. */
export interface SecretSource {
  get(): Promise<TenantSecret>;
  /** Drops the cached value: the next get() reads it again (keys rotated, or a stale read). */
  invalidate(): void;
}

/** The secret exists but cannot be used as it is (not JSON, fields missing): someone must fix it. */
class SecretError extends ConfigurationError {}

/** The one hint for a secret nobody filled yet, whichever way it shows. */
const notFilled = (where: string, cause?: unknown) =>
  new SecretNotFilledError(`${where} is empty: fill it with the documented JSON shape (docs/deploy.md, "Filling the secret")`, { cause });

function parseSecret(text: string | undefined, where: string): TenantSecret {
  if (!text) throw notFilled(where);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SecretError(`${where} is not valid JSON`);
  }
  const parsed = tenantSecretSchema.safeParse(json);
  if (!parsed.success) {
    // Only the field names, never the values.
    throw new SecretError(`${where} is missing or has invalid fields: ${formatZodIssues(parsed.error, { pathsOnly: true })}`);
  }
  return parsed.data;
}

function cachedSource(load: () => Promise<TenantSecret>): SecretSource {
  let pending: Promise<TenantSecret> | undefined;
  return {
    get() {
      pending ??= load().catch((err: unknown) => {
        pending = undefined;
        throw err;
      });
      return pending;
    },
    invalidate() {
      pending = undefined;
    },
  };
}

export function secretsManagerSource(client: SecretsManagerClient, secretArn: string): SecretSource {
  return cachedSource(async () => {
    const where = `secret ${secretArn}`;
    let out;
    try {
      out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    } catch (err) {
      // A secret created empty has no AWSCURRENT version: Secrets Manager answers ResourceNotFoundException
      // ("can't find the specified secret value for staging label: AWSCURRENT"), not an empty string.
      if (err instanceof ResourceNotFoundException && /AWSCURRENT|staging label|secret value/i.test(err.message)) throw notFilled(where, err);
      throw err;
    }
    return parseSecret(out.SecretString, where);
  });
}

/** Local mode and tests: the same JSON shape in a file kept out of git. */
export function fileSecretSource(path: string): SecretSource {
  return cachedSource(async () => parseSecret(await readFile(path, 'utf8'), `secrets file ${path}`));
}

export function staticSecretSource(secret: TenantSecret): SecretSource {
  const value = tenantSecretSchema.parse(secret);
  return { get: async () => value, invalidate: () => undefined };
}

/** From the runtime config: a file when SECRETS_FILE is set, else Secrets Manager. */
export function secretSourceFor(secret: { arn?: string; file?: string }): SecretSource {
  if (secret.file) return fileSecretSource(secret.file);
  if (!secret.arn) throw new SecretError('no secret configured');
  return secretsManagerSource(new SecretsManagerClient({}), secret.arn);
}
