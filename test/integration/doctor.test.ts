import '../support/test-env';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmHistoryCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { concurrencyNeeded, report, runDoctor, type DoctorDeps } from '../../cli/doctor-checks';
import { crcSelfCheck } from '../../functions/adapters/crc-probe';
import { twitterWebhookApi } from '../../functions/adapters/x-webhooks';
import { createCrcHandler } from '../../functions/crc/handler';
import { resourceNames } from '../../infra/resource-names';
import { tenantConfigSchema, type TenantConfig } from '../../infra/tenant-config';
import { startHttpGateway, type HttpGateway } from '../../local/http-gateway';
import { startOmnichannelSimulator, type OmnichannelSimulator } from '../../simulators/fourbiz-omnichannel';
import { startFourbizSimulator, type FourbizSimulator } from '../../simulators/fourbiz-rest';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';
import { testObservability } from '../support/observability';

/**
 * `npm run doctor` against mocked AWS clients (CloudFormation, Secrets Manager, SNS, Lambda,
 * CloudWatch), the X simulator, the real CRC handler behind a local HTTP API, and the 4biz simulators.
 */
const cfn = mockClient(CloudFormationClient);
const sm = mockClient(SecretsManagerClient);
const sns = mockClient(SNSClient);
const lambda = mockClient(LambdaClient);
const cw = mockClient(CloudWatchClient);

let x: XApiSimulator;
let bridge: HttpGateway;
let omni: OmnichannelSimulator;
let rest: FourbizSimulator;
/** The consumer secret the deployed CRC handler answers with. */
let bridgeSecret: string;
let webhookUrl: string;
/** The tenant file's fourbiz.callbackUrl (relay). */
let callbackUrl: string;
const topicArn = 'arn:aws:sns:sa-east-1:123456789012:4biz-dm-acme-alarms';

/** X accepts only https URLs without a port: the stack's URL is https://bridge.localhost/…, which the simulator and the doctor's CRC check reach at the local gateway. */
const local = (url: string) => url.replace('https://bridge.localhost', bridge.url);
/**
 * Deployed tenants only take https 4biz URLs: the tenant names https://acme.4biz.example, and the
 * doctor's calls to it reach the Omnichannel (relay) or REST (tickets) simulator.
 */
const FOURBIZ = 'https://acme.4biz.example';
const toSimulators: typeof fetch = (input, init) => {
  const url = String(input);
  const path = url.slice(FOURBIZ.length);
  const target = path.startsWith('/4biz') ? rest.baseUrl.replace(/\/4biz$/, '') + path : omni.url.replace(/\/omnichannel.*$/, '') + path;
  return fetch(url.startsWith(FOURBIZ) ? target : url, init);
};
const CALLBACK = `${FOURBIZ}/omnichannel/twitter/callback`;

beforeAll(async () => {
  x = await startXApiSimulator({ resolveWebhookUrl: local });
  const crc = createCrcHandler({ ...testObservability(), secrets: { get: async () => ({ ...x.credentials, consumerSecret: bridgeSecret }), invalidate: () => undefined } });
  bridge = await startHttpGateway({ routes: [{ method: 'GET', path: '/webhooks/twitter', handler: crc }] });
  webhookUrl = 'https://bridge.localhost/webhooks/twitter';
  omni = await startOmnichannelSimulator({ consumerSecret: x.credentials.consumerSecret });
  rest = await startFourbizSimulator();
});

afterAll(async () => {
  await Promise.all([x.close(), bridge.close(), omni.stop(), rest.close()]);
});

const relayTenant = (): TenantConfig =>
  tenantConfigSchema.parse({ name: 'acme', region: 'sa-east-1', xAccountId: x.accountId, fourbiz: { mode: 'relay', callbackUrl } });
const ticketsTenant = (): TenantConfig =>
  tenantConfigSchema.parse({
    name: 'acme',
    region: 'sa-east-1',
    xAccountId: x.accountId,
    fourbiz: { mode: 'tickets', baseUrl: `${FOURBIZ}/4biz`, serviceCode: 'ATENDIMENTO-X', groupId: 'N1-ATENDIMENTO' },
  });

const secretValue = () => ({ ...x.credentials, fourbizUser: rest.userName, fourbizPassword: rest.password });
const stackOutputs = (tickets = false) =>
  Object.entries({
    WebhookUrl: webhookUrl,
    SecretArn: 'arn:aws:secretsmanager:sa-east-1:123456789012:secret:4biz-twitter-dm/acme-AbCdEf',
    AlarmTopicArn: topicArn,
    InboundQueueUrl: 'https://sqs.sa-east-1.amazonaws.com/123456789012/4biz-dm-acme-inbound.fifo',
    InboundDlqUrl: 'https://sqs.sa-east-1.amazonaws.com/123456789012/4biz-dm-acme-inbound-dlq.fifo',
    TableName: '4biz-dm-acme-conversations',
    DashboardUrl: 'https://sa-east-1.console.aws.amazon.com/cloudwatch/home?region=sa-east-1#dashboards:name=4biz-dm-acme-sa-east-1',
    ...(tickets ? { OutboundQueueUrl: 'https://sqs…/outbound.fifo', OutboundDlqUrl: 'https://sqs…/outbound-dlq.fifo' } : {}),
  }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }));

/** A healthy deployed tenant: every check passes unless a test breaks one thing. */
async function healthy(tickets = false): Promise<void> {
  for (const m of [cfn, sm, sns, lambda, cw]) m.reset();
  x.reset();
  omni.reset();
  callbackUrl = CALLBACK;
  bridgeSecret = x.credentials.consumerSecret;
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [{ StackName: resourceNames('acme').stack, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: stackOutputs(tickets) }],
  });
  sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(secretValue()) });
  sns.on(ListSubscriptionsByTopicCommand).resolves({
    Subscriptions: [{ SubscriptionArn: `${topicArn}:0b6b…`, Protocol: 'email', Endpoint: 'ops@acme.example', TopicArn: topicArn }],
  });
  lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 1000 } });
  cw.on(SetAlarmStateCommand).resolves({});
  cw.on(DescribeAlarmHistoryCommand).resolves({
    AlarmHistoryItems: [{ HistoryItemType: 'Action', HistorySummary: `Successfully executed action ${topicArn}`, Timestamp: new Date() }],
  });
  const api = twitterWebhookApi(x.credentials, x.url);
  const hook = await api.createWebhook(webhookUrl);
  await api.subscribe(hook.id);
}

async function doctor(tenant: TenantConfig, extra: Partial<DoctorDeps> = {}): Promise<{ code: number; output: string; lines: string[] }> {
  const lines: string[] = [];
  const code = await runDoctor(
    {
      tenant,
      cloudformation: new CloudFormationClient({ region: 'sa-east-1' }),
      secretsManager: new SecretsManagerClient({ region: 'sa-east-1' }),
      sns: new SNSClient({ region: 'sa-east-1' }),
      lambda: new LambdaClient({ region: 'sa-east-1' }),
      cloudwatch: new CloudWatchClient({ region: 'sa-east-1' }),
      xApi: (keys) => twitterWebhookApi(keys, x.url),
      notifyWait: { timeoutMs: 20, intervalMs: 10 },
      crcCheck: (url, secret) => crcSelfCheck(local(url), secret),
      fetch: toSimulators,
      sleep: async () => undefined,
      ...extra,
    },
    (line) => lines.push(line),
  );
  return { code, output: lines.join('\n'), lines };
}

const lineOf = (output: string, check: string) => output.split('\n').find((l) => new RegExp(`^(OK  |FAIL)  ${check} `).test(l)) ?? '';
const fixAfter = (lines: string[], check: string) => lines[lines.findIndex((l) => new RegExp(`^FAIL  ${check} `).test(l)) + 1] ?? '';

/** No value of the secret (X keys, 4biz password) anywhere in the output. */
function expectNoSecretIn(output: string): void {
  for (const value of Object.values(secretValue())) expect(output).not.toContain(value);
}

describe('npm run doctor: the consumer secret crc and webhook read (issue 16 §8)', () => {
  const consumerSecretId = resourceNames('acme').consumerSecret;

  it('fails, with the command that fixes it, when it is empty or differs from the tenant secret\'s, and never prints either value', async () => {
    await healthy();
    sm.on(GetSecretValueCommand, { SecretId: consumerSecretId }).rejects(
      new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT", $metadata: {} }),
    );
    const empty = await doctor(relayTenant());
    expect(lineOf(empty.output, 'consumer-secret')).toMatch(/^FAIL +consumer-secret +4biz-twitter-dm\/acme\/x-consumer-secret has no value yet/);
    expect(fixAfter(empty.lines, 'consumer-secret')).toContain('npm run x -- consumer-secret --tenant acme');
    expect(empty.code).toBe(1);

    sm.on(GetSecretValueCommand, { SecretId: consumerSecretId }).resolves({ SecretString: JSON.stringify({ consumerSecret: 'rotated-on-one-side-only' }) });
    const differs = await doctor(relayTenant());
    expect(lineOf(differs.output, 'consumer-secret')).toMatch(/^FAIL +consumer-secret +.* differs from the tenant secret's consumerSecret/);
    expect(differs.output).not.toContain('rotated-on-one-side-only');
    expectNoSecretIn(differs.output);
  });

  it('is not checked for a polling tenant (no crc or webhook function)', async () => {
    await healthy();
    const { output } = await doctor({ ...relayTenant(), x: { ...relayTenant().x, ingestion: 'poll' } });
    expect(lineOf(output, 'consumer-secret')).toBe('');
  });
});

describe('npm run doctor: a healthy tenant', () => {
  it('relay: every check OK, exit code 0, no secret value printed', async () => {
    await healthy();
    const { code, output } = await doctor(relayTenant());
    for (const check of ['stack', 'secret', 'consumer-secret', 'crc', 'x-webhook', 'x-subscription', '4biz', 'alarm-subscription', 'concurrency']) {
      expect(lineOf(output, check)).toMatch(/^OK/);
    }
    expect(lineOf(output, 'crc')).toMatch(/answers X's CRC check with the right token: OK in \d+ ms/);
    expect(lineOf(output, '4biz')).toContain('the callback URL answers (HTTP 401');
    expect(omni.deliveries).toEqual([]);
    expect(output).toContain('all 9 checks passed');
    expect(code).toBe(0);
    expectNoSecretIn(output);
  });

  it('an account subscribed through the X Activity API only (dm.received) passes', async () => {
    await healthy();
    x.subscriptions.clear();
    const api = twitterWebhookApi(x.credentials, x.url);
    await api.createActivitySubscription({ eventType: 'dm.received', userId: x.accountId, webhookId: x.webhooks[0]!.id, tag: '4biz-twitter-dm:acme' });
    const { code, output } = await doctor(relayTenant());
    expect(lineOf(output, 'x-subscription')).toMatch(/^OK {2}.*subscribed to webhook \S+ \(X Activity API dm\.received\)/);
    expect(code).toBe(0);
  });

  it('OAuth 2.0 (userAuth "oauth2"): no OAuth 1.0a access token needed; the tokens are checked (x-oauth2)', async () => {
    await healthy();
    const { accessToken: _a, accessTokenSecret: _s, ...appKeys } = secretValue();
    x.oauth2UserTokens.add('doctor-oauth2-access');
    const oauth2 = { clientId: x.oauth2Client.clientId, accessToken: 'doctor-oauth2-access', refreshToken: 'doctor-oauth2-refresh', expiresAt: new Date(Date.now() + 3_600_000).toISOString(), scope: 'dm.read dm.write tweet.read users.read offline.access' };
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ ...appKeys, userAuth: 'oauth2', oauth2 }) });
    const { code, output } = await doctor(relayTenant());
    expect(lineOf(output, 'secret')).toMatch(/^OK/);
    expect(lineOf(output, 'x-oauth2')).toMatch(/^OK +x-oauth2 +OAuth 2\.0 user context: tokens present, refreshable/);
    expect(output).toContain('all 10 checks passed');
    expect(code).toBe(0);
    for (const value of [oauth2.accessToken, oauth2.refreshToken]) expect(output).not.toContain(value);
  });

  it('polling mode: no webhook output needed, no CRC, webhook or subscription check', async () => {
    await healthy();
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'x', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: stackOutputs().filter((o) => o.OutputKey !== 'WebhookUrl') }],
    });
    const { code, output } = await doctor({ ...relayTenant(), x: { ...relayTenant().x, ingestion: 'poll' } });
    expect(lineOf(output, 'stack')).toMatch(/^OK/);
    for (const check of ['crc', 'x-webhook', 'x-subscription']) expect(lineOf(output, check)).toBe('');
    expect(output).toContain('all 5 checks passed');
    expect(code).toBe(0);
  });

  it('an XChat tenant: its key blob is checked against X\'s public keys of the account; without one, the fix command', async () => {
    await healthy();
    const keys = x.companyXChatKeys();
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ ...secretValue(), xchat: keys }) });
    const tenant = tenantConfigSchema.parse({ ...relayTenant(), x: { ...relayTenant().x, xchat: true } });
    const good = await doctor(tenant, { xApiBaseUrl: x.url });
    expect(lineOf(good.output, 'xchat-keys')).toMatch(/^OK +xchat-keys +the key blob imports and is the XChat identity X publishes for account/);
    expect(good.code).toBe(0);
    expect(good.output).not.toContain(keys.keyBlob);

    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(secretValue()) });
    const missing = await doctor(tenant, { xApiBaseUrl: x.url });
    expect(lineOf(missing.output, 'xchat-keys')).toMatch(/^FAIL .*no XChat keys/);
    expect(fixAfter(missing.lines, 'xchat-keys')).toContain('fix: npm run x -- xchat-keys --tenant acme --key-file PATH');
    expect(missing.code).toBe(1);
    // A tenant without the switch has no such check.
    expect(lineOf((await doctor(relayTenant(), { xApiBaseUrl: x.url })).output, 'xchat-keys')).toBe('');
  });

  it('tickets: the integration user logs in', async () => {
    await healthy(true);
    const { code, output } = await doctor(ticketsTenant());
    expect(lineOf(output, '4biz')).toMatch(/^OK {2}.*the integration user logs in/);
    expect(code).toBe(0);
    expectNoSecretIn(output);
  });

  it('--notify sets one alarm to ALARM by hand and reads in its history that CloudWatch published to the topic', async () => {
    await healthy();
    const { code, output } = await doctor(relayTenant(), { notify: true });
    expect(cw.commandCalls(SetAlarmStateCommand)[0]!.args[0].input).toMatchObject({ AlarmName: 'FourBizTwitterDm-acme-EnqueueFailed', StateValue: 'ALARM' });
    expect(lineOf(output, 'notify')).toMatch(/^OK {2}.*test notification published/);
    expect(code).toBe(0);
  });
});

describe('npm run doctor: each check failing, with its fix, exit code 1', () => {
  const cases: [string, string, () => Promise<void> | void, RegExp, RegExp, boolean?][] = [
    [
      'the stack is not deployed',
      'stack',
      () => void cfn.on(DescribeStacksCommand).rejects(new Error('Stack with id FourBizTwitterDm-acme does not exist')),
      /does not exist/,
      /npx cdk deploy -c tenant=acme \(region sa-east-1\)/,
    ],
    [
      'the last update rolled back',
      'stack',
      () =>
        void cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'x', StackStatus: 'UPDATE_ROLLBACK_COMPLETE', CreationTime: new Date(), Outputs: stackOutputs() }] }),
      /is UPDATE_ROLLBACK_COMPLETE/,
      /stack events/,
    ],
    [
      'the secret was never filled',
      'secret',
      () =>
        void sm.on(GetSecretValueCommand).rejects(
          new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT", $metadata: {} }),
        ),
      /has no value yet/,
      /aws secretsmanager put-secret-value --region sa-east-1 --secret-id 4biz-twitter-dm\/acme/,
    ],
    [
      'the secret lacks fields',
      'secret',
      () => void sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ consumerKey: x.credentials.consumerKey, consumerSecret: x.credentials.consumerSecret }) }),
      /missing or has invalid fields: accessToken, accessTokenSecret \(OAuth 1\.0a \(userAuth "oauth1a", the default\) needs .*; for OAuth 2\.0 instead run npm run x -- authorize --tenant/,
      /put-secret-value/,
    ],
    [
      'a secret on OAuth 2.0 lacks its tokens',
      'secret',
      () => void sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ consumerKey: x.credentials.consumerKey, consumerSecret: x.credentials.consumerSecret, userAuth: 'oauth2' }) }),
      /missing or has invalid fields: oauth2 \(userAuth "oauth2" needs the oauth2 tokens: run npm run x -- authorize --tenant NAME\)/,
      /put-secret-value/,
    ],
    [
      'the deployed CRC answers with another consumer secret',
      'crc',
      () => {
        bridgeSecret = 'some-other-secret';
      },
      /wrong response_token/,
      /consumerSecret/,
    ],
    ['no webhook is registered for the URL', 'x-webhook', () => void x.reset(), /no X webhook is registered/, /npm run x -- register --tenant acme/],
    [
      'X disabled the webhook',
      'x-webhook',
      () => {
        x.webhooks[0]!.valid = false;
      },
      /marked it invalid/,
      /npm run x -- revalidate --tenant acme/,
    ],
    [
      'the account is not subscribed',
      'x-subscription',
      () => void x.subscriptions.clear(),
      /is not subscribed to webhook \S+ through either X API/,
      /npm run x -- subscribe --tenant acme --api xaa \(or --api aaa\)/,
    ],
    ['the 4biz callback URL is down', '4biz', () => omni.stop(), /does not answer/, /fourbiz\.callbackUrl/],
    [
      'the 4biz callback URL is wrong',
      '4biz',
      () => {
        callbackUrl = `${CALLBACK}-typo`;
      },
      /answered HTTP 404/,
      /URL de retorno de chamada/,
    ],
    [
      'nobody confirmed the alarm e-mail',
      'alarm-subscription',
      () => void sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [{ SubscriptionArn: 'PendingConfirmation', Protocol: 'email', Endpoint: 'ops@acme.example' }] }),
      /no confirmed subscription; pending: ops@acme.example/,
      /confirmation e-mail/,
    ],
    [
      'the alarm topic has no subscription',
      'alarm-subscription',
      () => void sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [] }),
      /alarms reach nobody/,
      /alarms\.emails/,
    ],
    [
      'a new account with reduced Lambda concurrency',
      'concurrency',
      () => void lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 10 } }),
      /account limit 10 concurrent executions; this tenant's consumers need up to 20/,
      /Service Quotas/,
    ],
  ];

  it.each(cases)('%s → FAIL %s', async (_, check, breakIt, detail, fix) => {
    await healthy();
    await breakIt();
    try {
      const { code, output, lines } = await doctor(relayTenant());
      expect(lineOf(output, check)).toMatch(/^FAIL/);
      expect(lineOf(output, check)).toMatch(detail);
      expect(fixAfter(lines, check)).toMatch(/^\s+fix: /);
      expect(fixAfter(lines, check)).toMatch(fix);
      expect(output).toMatch(/\d+ of \d+ checks failed/);
      expect(code).toBe(1);
      expectNoSecretIn(output);
    } finally {
      if (!omni.isUp) await omni.start();
    }
  });

  it('unreadable stack (no credentials) points at the credentials, not at a deploy', async () => {
    await healthy();
    cfn.on(DescribeStacksCommand).rejects(new Error('Could not load credentials from any providers'));
    const { lines } = await doctor(relayTenant());
    expect(fixAfter(lines, 'stack')).toMatch(/fix: check the AWS credentials \(e\.g\. AWS_PROFILE\)/);
  });

  it('a missing stack fails the checks that need its outputs too, naming why', async () => {
    await healthy();
    cfn.on(DescribeStacksCommand).rejects(new Error('does not exist'));
    const { output } = await doctor(relayTenant());
    for (const check of ['crc', 'x-webhook', 'x-subscription', 'alarm-subscription']) {
      expect(lineOf(output, check)).toMatch(/^FAIL {2}\S+\s+needs the stack output/);
    }
  });

  it('relay: a callback URL that redirects (e.g. to a login page) fails', async () => {
    await healthy();
    const redirecting = (async () => new Response(null, { status: 302, headers: { location: 'https://acme.4biz.one/login' } })) as unknown as typeof fetch;
    const { code, output } = await doctor(relayTenant(), { fetch: redirecting });
    expect(lineOf(output, '4biz')).toMatch(/^FAIL {2}.*HTTP 302 \(redirect to https:\/\/acme\.4biz\.one\/login\)/);
    expect(code).toBe(1);
  });

  it('tickets: the integration user cannot log in', async () => {
    await healthy(true);
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ ...secretValue(), fourbizPassword: 'not-the-password' }) });
    const { code, output, lines } = await doctor(ticketsTenant());
    expect(lineOf(output, '4biz')).toMatch(/^FAIL {2}.*4biz login at .* failed: 4biz refused the integration user's login/);
    expect(fixAfter(lines, '4biz')).toContain('fourbizUser / fourbizPassword');
    expect(output).not.toContain('not-the-password');
    expect(code).toBe(1);
  });

  it('--notify: CloudWatch could not publish to the topic (the policy bug this issue fixed)', async () => {
    await healthy();
    cw.on(DescribeAlarmHistoryCommand).resolves({
      AlarmHistoryItems: [
        {
          HistoryItemType: 'Action',
          HistorySummary: `Failed to execute action ${topicArn}. Received error: "CloudWatch Alarms is not authorized to perform: SNS:Publish on resource:${topicArn}"`,
        },
      ],
    });
    const { code, output, lines } = await doctor(relayTenant(), { notify: true });
    expect(lineOf(output, 'notify')).toMatch(/^FAIL {2}.*not authorized to perform: SNS:Publish/);
    expect(fixAfter(lines, 'notify')).toContain('topic policy is wrong');
    expect(code).toBe(1);
  });

  it('--notify: KMS refused CloudWatch the topic key: its own failure, naming the key policy and how to fix it', async () => {
    await healthy();
    const refusal =
      `Failed to execute action ${topicArn}. Received error: "null (Service: AmazonSNS; Status Code: 400; Error Code: KMSAccessDenied): ` +
      `User: arn:aws:sts::123456789012:assumed-role/cloudwatch is not authorized to perform: kms:GenerateDataKey on this resource because no resource-based policy allows it"`;
    cw.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [{ HistoryItemType: 'Action', HistorySummary: refusal }] });
    const { code, output, lines } = await doctor(relayTenant(), { notify: true });
    expect(lineOf(output, 'notify')).toMatch(/^FAIL {2}notify {2,}KMS refused CloudWatch the alarm topic's key, so no alarm e-mail goes out: .*KMSAccessDenied/);
    const fix = fixAfter(lines, 'notify');
    expect(fix).toContain('kms:GenerateDataKey* and kms:Decrypt with no aws:SourceAccount/aws:SourceArn condition');
    expect(fix).toContain('npx cdk deploy -c tenant=');
    expect(code).toBe(1);
  });

  it('--notify: no action recorded in time', async () => {
    await healthy();
    cw.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [] });
    const { output } = await doctor(relayTenant(), { notify: true });
    expect(lineOf(output, 'notify')).toMatch(/^FAIL {2}.*no alarm action recorded/);
    expect(cw.commandCalls(DescribeAlarmHistoryCommand).length).toBeGreaterThan(1);
  });
});

describe('doctor output', () => {
  it('masks any secret value that would appear in a line', () => {
    const lines: string[] = [];
    const secret = { consumerKey: 'ck-1234', consumerSecret: 'cs-5678', accessToken: 'at-9012', accessTokenSecret: 'ats-3456', fourbizPassword: 'pw-7890' };
    const code = report([{ name: 'x', ok: false, detail: 'echoed cs-5678 and pw-7890', fix: 'use at-9012' }], (l) => lines.push(l), secret);
    expect(lines.join('\n')).not.toMatch(/cs-5678|pw-7890|at-9012/);
    expect(lines[0]).toBe('FAIL  x  echoed *** and ***');
    expect(code).toBe(1);
  });

  it('masks the OAuth 2.0 tokens too, not the names of the user context, a token\'s expiry or scopes', () => {
    const lines: string[] = [];
    const oauth2 = { clientId: 'client-1', clientSecret: 'cls-2345', accessToken: 'o2a-6789', refreshToken: 'o2r-0123', expiresAt: '2026-12-02T12:00:00.000Z', scope: 'dm.read dm.write' };
    const secret = { consumerKey: 'ck-1234', consumerSecret: 'cs-5678', userAuth: 'oauth2' as const, oauth2 };
    report([{ name: 'x-oauth2', ok: false, detail: 'oauth2 o2a-6789 o2r-0123 cls-2345 until 2026-12-02T12:00:00.000Z (dm.read dm.write)', fix: 'run authorize' }], (l) => lines.push(l), secret);
    expect(lines[0]).toBe('FAIL  x-oauth2  oauth2 *** *** *** until 2026-12-02T12:00:00.000Z (dm.read dm.write)');
  });

  it('the concurrency a tenant needs follows its settings', () => {
    expect(concurrencyNeeded(tenantConfigSchema.parse({ name: 'ab', region: 'sa-east-1', xAccountId: '1', fourbiz: { mode: 'relay', callbackUrl: 'https://x.example/cb' } }))).toBe(20);
    expect(
      concurrencyNeeded(
        tenantConfigSchema.parse({
          name: 'ab',
          region: 'sa-east-1',
          xAccountId: '1',
          inbound: { maxConcurrency: 50 },
          fourbiz: { mode: 'tickets', baseUrl: 'https://x.example/4biz', serviceCode: 'ATENDIMENTO-X' },
        }),
      ),
    ).toBe(63);
  });
});
