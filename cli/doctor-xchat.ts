import type { TenantSecret } from '../functions/config';
import { checkKeyBlob } from '../functions/adapters/xchat-key-blob';
import { describeXError } from '../functions/adapters/x-webhooks';
import type { PublicKeySource } from '../functions/core/xchat';
import type { TenantConfig } from '../infra/tenant-config';

/** One check's result, as doctor-checks.ts reports it (its CheckResult; not imported: that module imports this one). */
interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/**
 * `npm run doctor`'s XChat check (tenants with `x.xchat`): the tenant secret holds a key blob that
 * chat-xdk imports, it is the identity X publishes for the company account, and the secret names
 * the version X registered it under (the version every answer is signed with). Nothing of the blob
 * is printed.
 */
export async function checkXChatKeys(tenant: Pick<TenantConfig, 'name' | 'xAccountId'>, secret: TenantSecret, publicKeys: PublicKeySource): Promise<CheckResult> {
  const name = 'xchat-keys';
  const fix = `npm run x -- xchat-keys --tenant ${tenant.name} --key-file PATH (the company account's key blob; docs/xchat.md)`;
  const fail = (detail: string, why = fix): CheckResult => ({ name, ok: false, detail, fix: why });
  if (!secret.xchat) return fail('the tenant secret has no XChat keys (field xchat): every chat.received is dropped as undecryptable');
  let published;
  try {
    published = await publicKeys.signingKeys(tenant.xAccountId, { fresh: true });
  } catch (err) {
    return fail(`cannot read X's XChat public keys of account ${tenant.xAccountId}: ${describeXError(err)}`, 'check the X credentials in the tenant secret (the x-oauth2 and x-webhook checks), then run again');
  }
  const check = checkKeyBlob(secret.xchat.keyBlob, published);
  if (!check.ok) return fail(`the stored key blob: ${check.detail}`);
  if (check.publicKeyVersion !== secret.xchat.publicKeyVersion) {
    return fail(`the secret names key version ${secret.xchat.publicKeyVersion}, X registered these keys under ${check.publicKeyVersion}: answers would name the wrong signing key`);
  }
  return { name, ok: true, detail: `the key blob imports and is the XChat identity X publishes for account ${tenant.xAccountId} (key version ${check.publicKeyVersion})` };
}
