import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeAlarmHistoryCommand, SetAlarmStateCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetAccountSettingsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ListSubscriptionsByTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { TenantSecret } from '../functions/config';
import { SecretNotFilledError } from '../functions/core/errors';
import { createTicketsClient } from '../functions/adapters/fourbiz/tickets';
import { secretsManagerSource, staticSecretSource } from '../functions/adapters/secrets';
import { resourceNames } from '../infra/resource-names';
import type { TenantConfig } from '../infra/tenant-config';
import type { XWebhookApi } from '../functions/core/ports';
import { webhookFor } from '../functions/core/x-webhook-api';
import { crcSelfCheck } from '../functions/adapters/crc-probe';
import { describeXError } from '../functions/adapters/x-webhooks';
import { redactor } from './x-commands';
import { deployedConsumerSecret, sameSecret } from './consumer-secret';
import type { WritableSecretSource } from '../functions/adapters/secrets';
import { X_CALL_TIMEOUT_MS, companyXApi, xClientSettings } from '../functions/adapters/x-client';
import { userAuth, usesOAuth2, type OAuth2TenantSecret } from '../functions/adapters/x-user-auth';
import { AUTHORIZE_HINT } from '../functions/adapters/x-errors';
import type { XKeys } from './x-config';
import { xPublicKeySource } from '../functions/adapters/xchat-keys';
import { checkXChatKeys } from './doctor-xchat';

/**
 * The checks of `npm run doctor`, apart from argv and real clients so tests run them against
 * mocked AWS clients and the simulators. Each check says OK or FAIL and, when it fails, the fix.
 * A check that needs what an earlier one failed to get fails too, naming that check.
 */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface DoctorDeps {
  tenant: TenantConfig;
  cloudformation: CloudFormationClient;
  secretsManager: SecretsManagerClient;
  sns: SNSClient;
  lambda: LambdaClient;
  cloudwatch: CloudWatchClient;
  /** The X webhook API for these keys (the X CLI's twitterWebhookApi). */
  xApi(keys: XKeys): XWebhookApi;
  /** Also send a test notification through the alarm path (CloudWatch alarm → SNS topic). */
  notify?: boolean;
  /** How long to wait for the test notification's action in the alarm history, and how often to look. */
  notifyWait?: { timeoutMs: number; intervalMs: number };
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  /** X's API origin (OAuth 2.0 token refresh); X's own when undefined. */
  xApiBaseUrl?: string;
  /** The CRC check run as X runs it (default: the X CLI's crcSelfCheck). */
  crcCheck?: (url: string, consumerSecret: string) => Promise<{ ok: boolean; message: string }>;
}

/** Stack states in which the stack runs the template last deployed. */
const healthyStackStates = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE']);

/** Lambda concurrency the webhook, CRC and webhook-health functions need beside the queue consumers (X's bursts). */
const webhookHeadroom = 10;

/** Concurrent executions the tenant's configured consumers may take at once. */
export function concurrencyNeeded(tenant: TenantConfig): number {
  // Sender: maxConcurrency 2 (infra/constructs/sender.ts); poller: one run at a time.
  const tickets = tenant.fourbiz.mode === 'tickets' ? 2 + 1 : 0;
  return tenant.inbound.maxConcurrency + tickets + webhookHeadroom;
}

const ok = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, ok: false, detail, fix });
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function checkStack(deps: DoctorDeps): Promise<{ result: CheckResult; outputs?: Record<string, string> }> {
  const { tenant } = deps;
  const stackName = resourceNames(tenant.name).stack;
  const deploy = `npx cdk deploy -c tenant=${tenant.name} (region ${tenant.region})`;
  let stack;
  try {
    stack = (await deps.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (err) {
    // CloudFormation says "Stack with id … does not exist"; anything else is the caller's credentials or network.
    const fix = /does not exist/.test(message(err)) ? deploy : `check the AWS credentials (e.g. AWS_PROFILE) for the tenant's account${tenant.account ? ` ${tenant.account}` : ''}, then run again`;
    return { result: fail('stack', `cannot read stack ${stackName} in ${tenant.region}: ${message(err)}`, fix) };
  }
  if (!stack) return { result: fail('stack', `stack ${stackName} not found in ${tenant.region}`, deploy) };
  const outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  // Polling mode has no webhook, so no WebhookUrl.
  const wanted = [...(tenant.x.ingestion === 'webhook' ? ['WebhookUrl'] : []), 'SecretArn', 'AlarmTopicArn', 'InboundQueueUrl', 'InboundDlqUrl', 'TableName', 'DashboardUrl'];
  if (tenant.fourbiz.mode === 'tickets') wanted.push('OutboundQueueUrl', 'OutboundDlqUrl');
  const missing = wanted.filter((k) => !outputs[k]);
  if (!healthyStackStates.has(stack.StackStatus ?? '')) {
    return {
      result: fail('stack', `stack ${stackName} is ${stack.StackStatus}${stack.StackStatusReason ? ` (${stack.StackStatusReason})` : ''}`, `read the stack events in the CloudFormation console, fix the cause, then ${deploy}`),
      outputs,
    };
  }
  if (missing.length > 0) return { result: fail('stack', `stack ${stackName} lacks outputs: ${missing.join(', ')}`, `redeploy: ${deploy}`), outputs };
  return { result: ok('stack', `${stackName} is ${stack.StackStatus} in ${tenant.region}, all outputs present`), outputs };
}

async function checkSecret(deps: DoctorDeps, secretId: string): Promise<{ result: CheckResult; secret?: TenantSecret }> {
  const put = `aws secretsmanager put-secret-value --region ${deps.tenant.region} --secret-id ${resourceNames(deps.tenant.name).secret} --secret-string file://SECRET.json (docs/deploy.md, "Filling the secret")`;
  let secret: TenantSecret;
  try {
    secret = await secretsManagerSource(deps.secretsManager, secretId).get();
  } catch (err) {
    // The messages name the secret and its invalid fields, never a value.
    if (err instanceof SecretNotFilledError) return { result: fail('secret', 'the tenant secret has no value yet', put) };
    return { result: fail('secret', message(err), put) };
  }
  if (deps.tenant.fourbiz.mode === 'tickets' && (!secret.fourbizUser || !secret.fourbizPassword)) {
    return { result: fail('secret', 'tickets mode needs fourbizUser and fourbizPassword in the tenant secret', put), secret };
  }
  return { result: ok('secret', 'filled, every field the functions need is present and well-formed'), secret };
}

/** Webhook ingestion: the consumer secret crc and webhook read exists and equals the tenant secret's (compared by digest, never printed). */
async function checkConsumerSecret(deps: DoctorDeps, secret: TenantSecret): Promise<CheckResult> {
  const name = resourceNames(deps.tenant.name).consumerSecret;
  const fix = `npm run x -- consumer-secret --tenant ${deps.tenant.name} (copies it from the tenant secret, never printed)`;
  let deployed: string;
  try {
    deployed = await deployedConsumerSecret(deps.secretsManager, deps.tenant.name);
  } catch (err) {
    return fail('consumer-secret', err instanceof SecretNotFilledError ? `${name} has no value yet: crc and webhook cannot answer X` : message(err), fix);
  }
  return sameSecret(deployed, secret.consumerSecret)
    ? ok('consumer-secret', `${name} holds the tenant secret's consumer secret (compared by SHA-256)`)
    : fail('consumer-secret', `${name} differs from the tenant secret's consumerSecret: crc and webhook verify X with the other one`, fix);
}

const REQUIRED_SCOPES = ['dm.read', 'dm.write', 'tweet.read', 'users.read', 'offline.access'];

/** The tenant's OAuth 2.0 user tokens: present, with the scopes the bridge needs, and refreshable (refreshed and stored now when due). */
export async function checkOAuth2(secret: OAuth2TenantSecret, source: WritableSecretSource, apiBaseUrl?: string): Promise<CheckResult> {
  const fix = AUTHORIZE_HINT;
  const tokens = secret.oauth2;
  const granted = new Set((tokens.scope ?? '').split(' '));
  const missing = tokens.scope === undefined ? [] : REQUIRED_SCOPES.filter((s) => !granted.has(s));
  if (missing.length) return fail('x-oauth2', `the OAuth 2.0 tokens lack the scopes ${missing.join(', ')}`, fix);
  try {
    await userAuth(source, { clientSettings: xClientSettings(apiBaseUrl, X_CALL_TIMEOUT_MS) }).credentials(secret);
  } catch (err) {
    return fail('x-oauth2', message(err), fix);
  }
  const now = (await source.get()).oauth2?.expiresAt ?? tokens.expiresAt;
  return ok('x-oauth2', `OAuth 2.0 user context: tokens present, refreshable, access token good until ${now}`);
}

async function checkCrc(deps: DoctorDeps, webhookUrl: string, secret: TenantSecret): Promise<CheckResult> {
  const crc = await (deps.crcCheck ?? crcSelfCheck)(webhookUrl, secret.consumerSecret);
  if (crc.ok && !/too slow/.test(crc.message)) return ok('crc', `${webhookUrl} answers X's CRC check with the right token: ${crc.message}`);
  return fail(
    'crc',
    `CRC check against ${webhookUrl}: ${crc.message}`,
    'check the crc function logs and the CrcFailed alarm; a wrong token means the secret\'s consumerSecret is not the X app\'s API key secret',
  );
}

async function checkXWebhook(deps: DoctorDeps, webhookUrl: string, secret: TenantSecret): Promise<CheckResult[]> {
  const { tenant } = deps;
  const api = deps.xApi(secret);
  let hooks;
  try {
    hooks = await api.listWebhooks();
  } catch (err) {
    const why = `X refused to list the app's webhooks: ${describeXError(err)}`;
    const fix = 'check the X keys in the tenant secret and that the app has Account Activity API access';
    return [fail('x-webhook', why, fix), fail('x-subscription', 'needs the x-webhook check', fix)];
  }
  const hook = webhookFor(hooks, webhookUrl);
  if (!hook) {
    const others = hooks.length ? ` (the app has: ${hooks.map((h) => h.url).join(', ')})` : '';
    const fix = `npm run x -- register --tenant ${tenant.name}`;
    return [fail('x-webhook', `no X webhook is registered for ${webhookUrl}${others}`, fix), fail('x-subscription', 'needs the x-webhook check', fix)];
  }
  const results: CheckResult[] = [
    hook.valid
      ? ok('x-webhook', `webhook ${hook.id} is registered for ${webhookUrl} and valid`)
      : fail('x-webhook', `webhook ${hook.id} is registered but X marked it invalid (failed CRC checks)`, `npm run x -- revalidate --tenant ${tenant.name}`),
  ];
  // Subscribed through either X API: the Account Activity API (being deprecated) or the X Activity API (dm.received).
  const subscribe = `npm run x -- subscribe --tenant ${tenant.name} --api xaa (or --api aaa)`;
  const [aaa, xaa] = await Promise.allSettled([api.listSubscriptions(hook.id), api.listActivitySubscriptions()]);
  const viaAaa = aaa.status === 'fulfilled' && aaa.value.includes(tenant.xAccountId);
  const viaXaa =
    xaa.status === 'fulfilled' && xaa.value.some((a) => a.webhook_id === hook.id && a.event_type === 'dm.received' && a.filter.user_id === tenant.xAccountId);
  if (viaAaa || viaXaa) {
    results.push(ok('x-subscription', `account ${tenant.xAccountId} is subscribed to webhook ${hook.id} (${[viaXaa && 'X Activity API dm.received', viaAaa && 'Account Activity API'].filter(Boolean).join(' and ')})`));
  } else if (aaa.status === 'rejected' && xaa.status === 'rejected') {
    results.push(fail('x-subscription', `X refused to list the subscriptions: ${describeXError(aaa.reason)}`, 'check the app bearer token or consumer keys in the tenant secret'));
  } else {
    results.push(fail('x-subscription', `account ${tenant.xAccountId} is not subscribed to webhook ${hook.id} through either X API`, subscribe));
  }
  return results;
}

async function checkFourbiz(deps: DoctorDeps, secret: TenantSecret): Promise<CheckResult> {
  const settings = deps.tenant.fourbiz;
  if (settings.mode === 'tickets') {
    try {
      await createTicketsClient(settings, staticSecretSource(secret), { fetch: deps.fetch }).verifyLogin();
      return ok('4biz', `the integration user logs in at ${settings.baseUrl}`);
    } catch (err) {
      return fail('4biz', `4biz login at ${settings.baseUrl} failed: ${message(err)}`, 'check fourbiz.baseUrl in the tenant file and fourbizUser / fourbizPassword in the secret (a 4biz administrator can test the user)');
    }
  }
  // An unsigned, empty probe: 4biz refuses it (nothing is delivered), but answering at all shows the URL is served.
  const doFetch = deps.fetch ?? fetch;
  try {
    const res = await doFetch(settings.callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      redirect: 'manual',
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    await res.body?.cancel();
    // The bridge never follows redirects: a redirect (often to a login page) means the URL is not the callback.
    if (res.status >= 300 && res.status < 400) {
      return fail('4biz', `the callback URL answered HTTP ${res.status} (redirect to ${res.headers.get('location') ?? 'nowhere'})`, 'copy the interaction\'s exact "URL de retorno de chamada" (https, no redirect) into fourbiz.callbackUrl and redeploy');
    }
    if (res.status === 404 || res.status === 410 || res.status >= 500) {
      return fail('4biz', `the callback URL answered HTTP ${res.status}`, 'copy the interaction\'s "URL de retorno de chamada" from 4biz Omnichannel into fourbiz.callbackUrl and redeploy; a 5xx means 4biz is failing');
    }
    return ok('4biz', `the callback URL answers (HTTP ${res.status} to an unsigned probe, which delivers nothing)`);
  } catch (err) {
    return fail('4biz', `the callback URL does not answer within ${settings.timeoutMs} ms: ${message(err)}`, 'check fourbiz.callbackUrl and that 4biz is reachable from the internet');
  }
}

async function checkAlarmSubscription(deps: DoctorDeps, topicArn: string): Promise<CheckResult> {
  const fix = `add an address to alarms.emails in tenants/${deps.tenant.name}.json and redeploy, then click the link in AWS's confirmation e-mail (or subscribe another endpoint to ${topicArn})`;
  try {
    const subs = [];
    let token: string | undefined;
    do {
      const page = await deps.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token }));
      subs.push(...(page.Subscriptions ?? []));
      token = page.NextToken;
    } while (token);
    // An unconfirmed subscription's ARN is the literal "PendingConfirmation".
    const confirmed = subs.filter((s) => s.SubscriptionArn?.startsWith('arn:'));
    if (confirmed.length > 0) return ok('alarm-subscription', `${confirmed.length} confirmed subscription(s): ${confirmed.map((s) => `${s.Protocol} ${s.Endpoint}`).join(', ')}`);
    const pending = subs.filter((s) => s.SubscriptionArn === 'PendingConfirmation').map((s) => s.Endpoint);
    return fail('alarm-subscription', pending.length ? `no confirmed subscription; pending: ${pending.join(', ')}` : 'the alarm topic has no subscription: alarms reach nobody', fix);
  } catch (err) {
    return fail('alarm-subscription', `cannot list the subscriptions of ${topicArn}: ${message(err)}`, fix);
  }
}

/**
 * Sets one alarm to ALARM by hand (CloudWatch re-evaluates it within a minute): CloudWatch then
 * publishes to the topic exactly as for a real failure, and the alarm history says whether it could.
 */
async function checkNotify(deps: DoctorDeps): Promise<CheckResult> {
  // An alarm whose missing data counts as OK, so CloudWatch sets it back (the DLQ alarms keep their state).
  const alarmName = `${resourceNames(deps.tenant.name).stack}-EnqueueFailed`;
  const fix = 'read the alarm history in the CloudWatch console: "not authorized to perform SNS:Publish" means the topic policy is wrong (redeploy)';
  // SNS encrypts with the topic's key for CloudWatch: a key policy CloudWatch cannot use fails every alarm e-mail.
  const keyFix = `the alarm topic's KMS key policy must let cloudwatch.amazonaws.com use kms:GenerateDataKey* and kms:Decrypt with no aws:SourceAccount/aws:SourceArn condition (statement CloudWatchEncryptsForTheTopic, docs/deploy.md "Alarms"): redeploy this version (npx cdk deploy -c tenant=${deps.tenant.name}), and check that nobody edited the key policy or disabled the key`;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const wait = deps.notifyWait ?? { timeoutMs: 60_000, intervalMs: 5_000 };
  const since = new Date();
  try {
    await deps.cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'ALARM', StateReason: 'npm run doctor --notify: a test notification, not a failure' }),
    );
    for (let waited = 0; ; waited += wait.intervalMs) {
      const history = await deps.cloudwatch.send(
        new DescribeAlarmHistoryCommand({ AlarmName: alarmName, HistoryItemType: 'Action', StartDate: since, ScanBy: 'TimestampDescending' }),
      );
      const item = history.AlarmHistoryItems?.[0];
      if (item) {
        const summary = item.HistorySummary ?? '';
        if (/success/i.test(summary)) return ok('notify', `test notification published through ${alarmName}: check your inbox`);
        return /\bKMS|kms:/.test(summary)
          ? fail('notify', `KMS refused CloudWatch the alarm topic's key, so no alarm e-mail goes out: ${summary}`, keyFix)
          : fail('notify', `CloudWatch could not notify: ${summary}`, fix);
      }
      if (waited >= wait.timeoutMs) return fail('notify', `no alarm action recorded within ${wait.timeoutMs / 1000} s after setting ${alarmName} to ALARM`, fix);
      await sleep(wait.intervalMs);
    }
  } catch (err) {
    return fail('notify', `cannot set ${alarmName} to ALARM: ${message(err)}`, fix);
  }
}

async function checkConcurrency(deps: DoctorDeps): Promise<CheckResult> {
  const needed = concurrencyNeeded(deps.tenant);
  const fix = `ask for more Lambda "Concurrent executions" in Service Quotas (${deps.tenant.region}), or lower inbound.maxConcurrency in tenants/${deps.tenant.name}.json`;
  try {
    const settings = await deps.lambda.send(new GetAccountSettingsCommand({}));
    const limit = settings.AccountLimit?.ConcurrentExecutions ?? 0;
    const detail = `account limit ${limit} concurrent executions; this tenant's consumers need up to ${needed} (inbound.maxConcurrency ${deps.tenant.inbound.maxConcurrency} + ${needed - deps.tenant.inbound.maxConcurrency} for webhook, CRC, webhook health${deps.tenant.fourbiz.mode === 'tickets' ? ', sender and poller' : ''})`;
    return limit >= needed ? ok('concurrency', detail) : fail('concurrency', detail, fix);
  } catch (err) {
    return fail('concurrency', `cannot read the Lambda account settings: ${message(err)}`, fix);
  }
}

/** Every check in order; later ones use what earlier ones found. The secret is returned only to mask it in the output. */
async function runChecks(deps: DoctorDeps): Promise<{ results: CheckResult[]; secret?: TenantSecret }> {
  const results: CheckResult[] = [];
  const { result: stack, outputs = {} } = await checkStack(deps);
  results.push(stack);
  const secretId = outputs.SecretArn || resourceNames(deps.tenant.name).secret;
  const { result: secretResult, secret } = await checkSecret(deps, secretId);
  results.push(secretResult);
  // OAuth 2.0 tenants only: their tokens expire and rotate, OAuth 1.0a keys do not.
  if (secret && deps.tenant.x.ingestion === 'webhook') results.push(await checkConsumerSecret(deps, secret));
  if (secret && usesOAuth2(secret)) results.push(await checkOAuth2(secret, secretsManagerSource(deps.secretsManager, secretId), deps.xApiBaseUrl));
  if (secret && deps.tenant.x.xchat) {
    const x = companyXApi(secretsManagerSource(deps.secretsManager, secretId), { baseUrl: deps.xApiBaseUrl });
    results.push(await checkXChatKeys(deps.tenant, secret, xPublicKeySource(x)));
  }

  const webhookUrl = outputs.WebhookUrl;
  const needs = (name: string, what: string, fix: string) => fail(name, `needs ${what}`, fix);
  // Polling mode (x.ingestion "poll") has no webhook: no CRC, webhook or subscription to check.
  if (deps.tenant.x.ingestion === 'webhook') {
    if (webhookUrl && secret) {
      results.push(await checkCrc(deps, webhookUrl, secret));
      results.push(...(await checkXWebhook(deps, webhookUrl, secret)));
    } else {
      const what = !webhookUrl ? 'the stack output WebhookUrl (stack check)' : 'a filled secret (secret check)';
      const fix = 'fix the checks above first';
      results.push(needs('crc', what, fix), needs('x-webhook', what, fix), needs('x-subscription', what, fix));
    }
  }
  results.push(secret ? await checkFourbiz(deps, secret) : needs('4biz', 'a filled secret (secret check)', 'fix the checks above first'));
  results.push(
    outputs.AlarmTopicArn
      ? await checkAlarmSubscription(deps, outputs.AlarmTopicArn)
      : needs('alarm-subscription', 'the stack output AlarmTopicArn (stack check)', 'fix the checks above first'),
  );
  if (deps.notify) results.push(stack.ok ? await checkNotify(deps) : needs('notify', 'a deployed stack (stack check)', 'fix the checks above first'));
  results.push(await checkConcurrency(deps));
  return { results, secret };
}

/** Runs every check, prints each result (any secret value in a line masked), and returns the exit code: 0 only when all passed. */
export async function runDoctor(deps: DoctorDeps, out: (line: string) => void): Promise<0 | 1> {
  const { results, secret } = await runChecks(deps);
  return report(results, out, secret);
}

export function report(results: CheckResult[], out: (line: string) => void, secret?: TenantSecret): 0 | 1 {
  const redact = secret ? redactor(secret) : (line: string) => line;
  const width = Math.max(...results.map((r) => r.name.length));
  for (const r of results) {
    out(redact(`${r.ok ? 'OK  ' : 'FAIL'}  ${r.name.padEnd(width)}  ${r.detail}`));
    if (!r.ok && r.fix) out(redact(`      ${' '.repeat(width)}  fix: ${r.fix}`));
  }
  const failed = results.filter((r) => !r.ok).length;
  out(failed === 0 ? `all ${results.length} checks passed` : `${failed} of ${results.length} checks failed`);
  return failed === 0 ? 0 : 1;
}
