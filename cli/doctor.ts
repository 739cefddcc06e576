import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { loadTenantConfig } from '../infra/tenant-config';
import { runDoctor } from './doctor-checks';
import { twitterWebhookApi } from '../functions/adapters/x-webhooks';
import { parseXCliConfig } from './x-config';
import { runCli } from './run-cli';

/** `npm run doctor -- --tenant NAME [--notify]`: is the deployed tenant working end to end? */
const usage = `Usage: npm run doctor -- --tenant NAME [--notify]

One pass of checks against the deployed tenant, each OK or FAIL with the fix:
  stack               the stack is deployed (in the tenant file's region) with all its outputs
  secret              the tenant secret is filled and well-formed (its values are never printed)
  consumer-secret     (webhook) the secret crc and webhook read holds the same consumer secret (compared by digest)
  x-oauth2            (tenants on OAuth 2.0) the user tokens have the scopes and refresh (stored when refreshed)
  xchat-keys          (tenants with x.xchat) the secret's XChat key blob imports and matches X's public keys of the account
  crc                 the public webhook URL answers X's CRC check with the right token within 3 s
  x-webhook           an X webhook is registered for that URL and valid
  x-subscription      the company account is subscribed to it (X Activity API or Account Activity API)
  4biz                relay: the callback URL answers; tickets: the integration user logs in
  alarm-subscription  the alarm topic has a confirmed subscription
  notify              (--notify) a test notification through the alarm path (CloudWatch → SNS)
  concurrency         the account's Lambda concurrency covers the configured consumers

Exit code 0 only when every check passes. AWS credentials as for the AWS CLI; X API:
X_API_BASE_URL (default https://api.x.com).`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { tenant: { type: 'string' }, notify: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 1;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.tenant) {
    console.error(usage);
    return 1;
  }
  const tenant = loadTenantConfig(values.tenant);
  const { apiBaseUrl } = parseXCliConfig(process.env);
  const region = tenant.region;
  return runDoctor(
    {
      tenant,
      cloudformation: new CloudFormationClient({ region }),
      secretsManager: new SecretsManagerClient({ region }),
      sns: new SNSClient({ region }),
      lambda: new LambdaClient({ region }),
      cloudwatch: new CloudWatchClient({ region }),
      xApi: (keys) => twitterWebhookApi(keys, apiBaseUrl),
      xApiBaseUrl: apiBaseUrl,
      notify: values.notify,
    },
    (line) => console.log(line),
  );
}

runCli('doctor', main);
