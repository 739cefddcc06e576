import { readFile } from 'node:fs/promises';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { fileSecretSource, secretsManagerSource, type WritableSecretSource } from '../functions/adapters/secrets';
import { companyXApi } from '../functions/adapters/x-client';
import { checkKeyBlob } from '../functions/adapters/xchat-key-blob';
import { xPublicKeySource } from '../functions/adapters/xchat-keys';
import type { PublicKeySource } from '../functions/core/xchat';
import { resourceNames } from '../infra/resource-names';
import { loadTenantConfig, type TenantConfig } from '../infra/tenant-config';
import { describeXError } from '../functions/adapters/x-webhooks';
import { parseXCliConfig } from './x-config';

/**
 * `npm run x -- xchat-keys --tenant NAME --key-file PATH|-`: puts the company account's XChat
 * private keys (chat-xdk's key blob, base64) into the tenant secret, after checking them offline
 * with chat-xdk against the public keys X publishes for the account. The blob is read from a file
 * or standard input, never from the command line (shell history, `ps`), and never printed.
 */

/** Why `--pin` is refused: said by the CLI and in docs/xchat.md. */
export const PIN_UNLOCK_NOT_BUILT = [
  'PIN unlock is not built. It would recover the key blob from X\'s Juicebox realms over the network, which cannot be',
  'tested offline here, and chat-xdk 0.4.3\'s public API (createChat + unlock) loads the recovered keys into its own',
  'engine without any way to export them, while the bridge needs the blob itself in the tenant secret.',
  'Export the blob where the account\'s keys are (chat-xdk exportKeys, base64) and pass it with --key-file (docs/xchat.md).',
].join('\n');

/** A key blob is 64 bytes (88 base64 characters); anything much larger is not one. */
const MAX_INPUT_BYTES = 16 * 1024;

export interface XChatKeysOptions {
  tenant: Pick<TenantConfig, 'name' | 'xAccountId' | 'x'>;
  /** The key blob as read (base64 text; surrounding whitespace ignored). */
  keyBlob: string;
  /** X's public keys of the company account. */
  publicKeys: PublicKeySource;
  secrets: WritableSecretSource;
  out(line: string): void;
}

/** Checks the blob and stores it; false (with the reason printed) when it is refused. */
export async function runXChatKeys(o: XChatKeysOptions): Promise<boolean> {
  const account = o.tenant.xAccountId;
  let published;
  try {
    published = await o.publicKeys.signingKeys(account, { fresh: true });
  } catch (err) {
    o.out(`Cannot read X's XChat public keys of account ${account} (GET /2/users/${account}/public_keys): ${describeXError(err)}. Nothing stored.`);
    return false;
  }
  const check = checkKeyBlob(o.keyBlob, published);
  if (!check.ok) {
    const why = {
      malformed: `Refused: ${check.detail}. Pass the base64 key blob chat-xdk exports (exportKeys), 64 bytes. Nothing stored.`,
      unpublished: `Refused: ${check.detail}: account ${account} has not set up XChat, or tenants/${o.tenant.name}.json names another account (xAccountId). Nothing stored.`,
      foreign: `Refused: this key blob is not the XChat identity of account ${account} (the tenant's xAccountId): ${check.detail}. Was it exported from another account? Nothing stored.`,
    }[check.problem];
    o.out(why);
    return false;
  }
  await o.secrets.update({ xchat: { keyBlob: o.keyBlob.trim(), publicKeyVersion: check.publicKeyVersion } });
  o.out(`Stored the XChat keys of account ${account} in the tenant secret (field xchat, public key version ${check.publicKeyVersion}): they match the public keys X publishes for the account.`);
  if (!o.tenant.x.xchat) o.out(`Tenant ${o.tenant.name} does not read XChat yet: set "x": {"xchat": true} in tenants/${o.tenant.name}.json and deploy.`);
  return true;
}

/** Reads the blob from a file, or from standard input for `-`, bounded. */
async function readKeyInput(path: string): Promise<string> {
  let bytes: Buffer;
  if (path === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      size += (chunk as Buffer).length;
      if (size > MAX_INPUT_BYTES) throw new Error(`standard input holds more than ${MAX_INPUT_BYTES} bytes: not a key blob`);
      chunks.push(chunk as Buffer);
    }
    bytes = Buffer.concat(chunks);
  } else {
    bytes = await readFile(path);
    if (bytes.length > MAX_INPUT_BYTES) throw new Error(`${path} holds more than ${MAX_INPUT_BYTES} bytes: not a key blob`);
  }
  return bytes.toString('utf8');
}

/** The command as `npm run x` runs it: argv already parsed by cli/x.ts. */
export async function xchatKeysCommand(args: { tenant: string; keyFile?: string; pin?: boolean; secretsFile?: string }): Promise<number> {
  if (args.pin) {
    console.error(PIN_UNLOCK_NOT_BUILT);
    return 1;
  }
  if (!args.keyFile) {
    console.error('xchat-keys needs --key-file PATH (or --key-file - to read standard input): the key blob is never taken from the command line');
    return 1;
  }
  try {
    const { apiBaseUrl } = parseXCliConfig(process.env);
    const tenant = loadTenantConfig(args.tenant);
    const secrets = args.secretsFile ? fileSecretSource(args.secretsFile) : secretsManagerSource(new SecretsManagerClient({ region: tenant.region }), resourceNames(tenant.name).secret);
    const ok = await runXChatKeys({
      tenant,
      keyBlob: await readKeyInput(args.keyFile),
      publicKeys: xPublicKeySource(companyXApi(secrets, { baseUrl: apiBaseUrl })),
      secrets,
      out: (line) => console.log(line),
    });
    return ok ? 0 : 1;
  } catch (err) {
    // Config, tenant file or secret problems: their messages name files and fields, never values.
    console.error(`xchat-keys failed: ${(err as Error).message}`);
    return 1;
  }
}
