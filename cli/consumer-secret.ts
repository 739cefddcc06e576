import { createHash, timingSafeEqual } from 'node:crypto';
import { PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { consumerSecretSourceFor, secretsManagerSource } from '../functions/adapters/secrets';
import { resourceNames } from '../infra/resource-names';

/**
 * The consumer-secret secret (infra/constructs/tenant-secret.ts): the X consumer secret alone, what
 * the internet-facing crc and webhook functions read. `npm run x -- consumer-secret` fills it from
 * the tenant secret, and doctor checks the two agree, without ever printing either value.
 */

/** Whether two secrets are equal, compared through their SHA-256 digests (constant time, nothing printed). */
export function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The consumer secret the crc and webhook functions read now (throws SecretNotFilledError while it is empty). */
export async function deployedConsumerSecret(client: SecretsManagerClient, tenant: string): Promise<string> {
  return (await consumerSecretSourceFor({ arn: resourceNames(tenant).consumerSecret }, client).get()).consumerSecret;
}

/** Copies the tenant secret's consumerSecret into the consumer-secret secret; a line saying what it did, never the value. */
export async function copyConsumerSecret(client: SecretsManagerClient, tenant: string): Promise<string> {
  const names = resourceNames(tenant);
  const { consumerSecret } = await secretsManagerSource(client, names.secret).get();
  const current = await deployedConsumerSecret(client, tenant).catch(() => undefined);
  if (current !== undefined && sameSecret(current, consumerSecret)) return `${names.consumerSecret} already holds the tenant secret's consumer secret: nothing to do`;
  await client.send(new PutSecretValueCommand({ SecretId: names.consumerSecret, SecretString: JSON.stringify({ consumerSecret }) }));
  return `copied the consumer secret of ${names.secret} into ${names.consumerSecret} (the value is not printed); crc and webhook read it on their next request`;
}
