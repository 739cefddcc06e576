import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretsManagerSource } from '../functions/adapters/secrets';
import { resourceNames } from '../infra/resource-names';
import { loadTenantConfig } from '../infra/tenant-config';
import { twitterWebhookApi } from '../functions/adapters/x-webhooks';
import { commandNames, runXCommand, type CommandName, type XFeedApi } from './x-commands';
import { parseXCliConfig, type XKeys } from './x-config';
import { runCli } from './run-cli';

/** `npm run x -- <command> --tenant NAME [--url URL]`: manage the tenant's X webhook. */
const usage = `Usage: npm run x -- <${commandNames.join('|')}> --tenant NAME [--url URL] [--api xaa|aaa] [--from ISO --to ISO]

  register     create the webhook for the tenant's URL (https, no port; X runs a CRC check against it)
  subscribe    subscribe the company account to the webhook: --api xaa (X Activity API: dm.received,
               chat.received, oauth.revoke) or --api aaa (Account Activity API, the default, being
               deprecated by X); running it again is harmless
  unsubscribe  remove those subscriptions (--api xaa|aaa)
  status       webhooks (valid or not), both kinds of subscription, and a CRC check run now
  revalidate   ask X to re-run the CRC check (re-enables a webhook X disabled); FAILED and exit 1 when X says invalid
  replay       --from ISO --to ISO: X re-delivers that window's events (at most 24 h back); prints the job id
  unregister   delete the webhook

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

async function tenantKeys(tenant: string, envKeys: XKeys | undefined): Promise<XKeys> {
  if (envKeys) return envKeys;
  return secretsManagerSource(new SecretsManagerClient({}), resourceNames(tenant).secret).get();
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
    const keys = await tenantKeys(tenant, config.envKeys);
    let url: Promise<string> | undefined;
    return await runXCommand(command, {
      api: twitterWebhookApi(keys, config.apiBaseUrl),
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

runCli('x', main);
