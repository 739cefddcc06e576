import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { fileSecretSource, secretsManagerSource } from '../functions/adapters/secrets';
import { resourceNames } from '../infra/resource-names';
import { loadTenantConfig } from '../infra/tenant-config';
import { twitterWebhookApi } from '../functions/adapters/x-webhooks';
import { commandNames, runXCommand, type CommandName, type XFeedApi } from './x-commands';
import { parseXCliConfig, type XKeys } from './x-config';
import { runCli } from './run-cli';
import { runAuthorize } from './x-authorize';
import { xchatKeysCommand } from './xchat-keys';
import { copyConsumerSecret } from './consumer-secret';
import { companyXApi } from '../functions/adapters/x-client';
import { usesOAuth2 } from '../functions/adapters/x-user-auth';

/** `npm run x -- <command> --tenant NAME [--url URL]`: manage the tenant's X webhook. */
const usage = `Usage: npm run x -- <${commandNames.join('|')}|authorize|xchat-keys|consumer-secret> --tenant NAME [--url URL] [--api xaa|aaa] [--from ISO --to ISO]

  register     create the webhook for the tenant's URL (https, no port; X runs a CRC check against it)
  subscribe    subscribe the company account to the webhook: --api xaa (X Activity API, the default:
               dm.received, chat.received, oauth.revoke) or --api aaa (Account Activity API, being
               deprecated by X); running it again is harmless
  unsubscribe  remove those subscriptions (--api xaa|aaa)
  status       webhooks (valid or not), both kinds of subscription, and a CRC check run now
  revalidate   ask X to re-run the CRC check (re-enables a webhook X disabled); FAILED and exit 1 when X says invalid
  replay       --from ISO --to ISO: X re-delivers that window's events (at most 24 h back); prints the job id
  unregister   delete the webhook
  authorize    OAuth 2.0 user context for the company account (authorization code with PKCE): prints
               a link to approve in a browser signed in as the account, takes X's redirect on
               http://127.0.0.1:PORT/callback (--port, default 8765; a callback URL of the X app),
               and stores the tokens in the tenant secret with userAuth "oauth2" (or in
               --secrets-file PATH, for npm start). Client: X_OAUTH2_CLIENT_ID [, X_OAUTH2_CLIENT_SECRET].
  xchat-keys   --key-file PATH (or - for standard input): the company account's XChat key blob (base64),
               checked against the public keys X publishes for the account and stored in the tenant secret
               (or --secrets-file PATH); never printed. --pin says why PIN unlock is not built (docs/xchat.md).
  consumer-secret  copy the tenant secret's consumerSecret into ${resourceNames('NAME').consumerSecret}, the only
               secret crc and webhook may read (after filling or rotating the tenant secret); never printed

Keys: the tenant's secret (${resourceNames('NAME').secret}) in Secrets Manager, or, for local use,
X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET [, X_BEARER_TOKEN].
Webhook URL: --url, else the stack output WebhookUrl of ${resourceNames('NAME').stack}.
X API: X_API_BASE_URL (default https://api.x.com).`;

async function stackWebhookUrl(tenant: string): Promise<string> {
  const stackName = resourceNames(tenant).stack;
  let out;
  try {
    out = await new CloudFormationClient({}).send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (err) {
    throw new Error(`cannot read stack ${stackName} (${(err as Error).message}); pass --url`, { cause: err });
  }
  // A construct-level CfnOutput gets a hashed logical id that still contains the name.
  const output = out.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'WebhookUrl' || o.OutputKey?.includes('WebhookUrl'));
  if (!output?.OutputValue) throw new Error(`stack ${stackName} has no WebhookUrl output; pass --url`);
  return output.OutputValue;
}

/** The keys, and for a tenant on OAuth 2.0 the user-context runner that refreshes and stores its tokens. */
async function tenantKeys(tenant: string, envKeys: XKeys | undefined, apiBaseUrl: string): Promise<{ keys: XKeys; oauth2User?: ReturnType<typeof companyXApi> }> {
  if (envKeys) return { keys: envKeys };
  const source = secretsManagerSource(new SecretsManagerClient({}), resourceNames(tenant).secret);
  const keys = await source.get();
  return { keys, oauth2User: usesOAuth2(keys) ? companyXApi(source, { baseUrl: apiBaseUrl }) : undefined };
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: {
        tenant: { type: 'string' },
        url: { type: 'string' },
        api: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        port: { type: 'string' },
        'secrets-file': { type: 'string' },
        'key-file': { type: 'string' },
        pin: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 1;
  }
  const { values, positionals } = parsed;
  const command = positionals[0] as CommandName | undefined;
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals[0] === 'authorize' && values.tenant && positionals.length === 1) return authorize(values.tenant, values.port, values['secrets-file']);
  if (positionals[0] === 'xchat-keys' && values.tenant && positionals.length === 1) {
    return xchatKeysCommand({ tenant: values.tenant, keyFile: values['key-file'], pin: values.pin, secretsFile: values['secrets-file'] });
  }
  if (positionals[0] === 'consumer-secret' && values.tenant && positionals.length === 1) return consumerSecret(values.tenant);
  if (!command || !commandNames.includes(command) || positionals.length > 1 || !values.tenant) {
    console.error(usage);
    return 1;
  }
  if (values.api !== undefined && values.api !== 'xaa' && values.api !== 'aaa') {
    console.error(`--api must be xaa or aaa, not "${values.api}"\n\n${usage}`);
    return 1;
  }
  const tenant = values.tenant;
  try {
    const config = parseXCliConfig(process.env);
    const tenantConfig = loadTenantConfig(tenant);
    if (tenantConfig.x.ingestion === 'poll') {
      // Polling mode: the stack has no public endpoint, so X has nothing to call.
      console.log(`Tenant ${tenant} polls X for its DMs (x.ingestion "poll" in tenants/${tenant}.json): there is no webhook to ${command} and nothing to register with X.`);
      console.log(`Its dm-poller reads GET /2/dm_events every ${tenantConfig.x.pollIntervalSeconds} s with the tenant's keys; see the dashboard's "DM polls" row.`);
      return 0;
    }
    const { keys, oauth2User } = await tenantKeys(tenant, config.envKeys, config.apiBaseUrl);
    let url: Promise<string> | undefined;
    return await runXCommand(command, {
      api: twitterWebhookApi(keys, config.apiBaseUrl, oauth2User),
      keys,
      tenant,
      xAccountId: tenantConfig.xAccountId,
      webhookUrl: () => (url ??= values.url ? Promise.resolve(values.url) : stackWebhookUrl(tenant)),
      out: (line) => console.log(line),
      feedApi: values.api as XFeedApi | undefined,
      replayFrom: values.from,
      replayTo: values.to,
    });
  } catch (err) {
    // Config, tenant file or secret problems: their messages name fields, never values.
    console.error(`${command} failed: ${(err as Error).message}`);
    return 1;
  }
}

/** `authorize`: OAuth 2.0 tokens for the company account, into the tenant secret (or a local secrets file). */
async function authorize(tenant: string, port: string | undefined, secretsFile: string | undefined): Promise<number> {
  try {
    const config = parseXCliConfig(process.env);
    if (!config.oauth2Client) {
      console.error('authorize needs the X app\'s OAuth 2.0 client: set X_OAUTH2_CLIENT_ID (and X_OAUTH2_CLIENT_SECRET for a confidential client)');
      return 1;
    }
    const ok = await runAuthorize({
      tenant,
      xAccountId: loadTenantConfig(tenant).xAccountId,
      ...config.oauth2Client,
      apiBaseUrl: config.apiBaseUrl,
      authorizeUrl: config.authorizeUrl,
      port: Number(port ?? 8765),
      secrets: secretsFile ? fileSecretSource(secretsFile) : secretsManagerSource(new SecretsManagerClient({}), resourceNames(tenant).secret),
      out: (line) => console.log(line),
    });
    return ok ? 0 : 1;
  } catch (err) {
    console.error(`authorize failed: ${(err as Error).message}`);
    return 1;
  }
}

/** `consumer-secret`: the consumer secret into the secret crc and webhook read (docs/deploy.md, "Filling the secret"). */
async function consumerSecret(tenant: string): Promise<number> {
  try {
    const config = loadTenantConfig(tenant);
    if (config.x.ingestion === 'poll') {
      console.log(`Tenant ${tenant} polls X (no crc or webhook function): it has no consumer-secret secret.`);
      return 0;
    }
    console.log(await copyConsumerSecret(new SecretsManagerClient({ region: config.region }), tenant));
    return 0;
  } catch (err) {
    console.error(`consumer-secret failed: ${(err as Error).message}`);
    return 1;
  }
}

runCli('x', main);
