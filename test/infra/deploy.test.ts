import { App, Aspects } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsSolutionsChecks } from 'cdk-nag';
import { METRIC_NAMESPACE, Metric } from '../../functions/core/metric-names';
import { esbuildOptions, functionsDir } from '../../infra/constructs/bridge-function';
import { resourceNames } from '../../infra/resource-names';
import { loadTenantConfig, tenantConfigSchema, TenantConfigError } from '../../infra/tenant-config';
import { TenantStack } from '../../infra/tenant-stack';
import { buildStack, cdkJsonContext, exampleRelay, exampleTickets, functionNamed, resourceNamed, tenantWith } from './build-stack';

let relay: ReturnType<typeof buildStack>;
let tickets: ReturnType<typeof buildStack>;
beforeAll(() => {
  relay = buildStack(exampleRelay());
  tickets = buildStack(exampleTickets());
});

const alarmNamed = (template: Template, stack: string, id: string) =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) => a.Properties.AlarmName === `${stack}-${id}`)!.Properties;

describe('alarm notifications reach the topic', () => {
  const onlyThisStacksAlarms = (stack: string) => ({
    StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    ArnLike: {
      'aws:SourceArn': {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:alarm:${stack}-*`]],
      },
    },
  });

  it('the topic policy lets CloudWatch publish, only for this account and this stack\'s alarms', () => {
    const [topicId] = resourceNamed(relay.template, 'AWS::SNS::Topic', 'AlarmsTopic');
    const [, policy] = resourceNamed(relay.template, 'AWS::SNS::TopicPolicy', 'AlarmsTopicPolicy');
    expect(policy.Properties!.PolicyDocument.Statement).toContainEqual({
      Sid: 'AlarmsOfThisStackPublish',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: { Ref: topicId },
      Condition: onlyThisStacksAlarms('FourBizTwitterDm-example'),
    });
  });

  it('the topic key lets CloudWatch encrypt for the topic as AWS documents it (no source conditions the KMS request may lack), and grants CloudWatch nothing else', () => {
    const [, key] = resourceNamed(relay.template, 'AWS::KMS::Key', 'AlarmsTopicKey');
    const statements: { Principal?: unknown }[] = key.Properties!.KeyPolicy.Statement;
    const forCloudWatch = statements.filter((s) => JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'));
    expect(forCloudWatch).toEqual([
      {
        Sid: 'CloudWatchEncryptsForTheTopic',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
      },
    ]);
  });

  it('every alarm name matches the ARN pattern the policies allow', () => {
    for (const alarm of Object.values(tickets.template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmName).toMatch(/^FourBizTwitterDm-example-tickets-/);
    }
  });
});

describe('nothing that synthesises fails to deploy', () => {
  it('a CloudFormation template validation warning fails the synth (cdk.json turns them into errors)', () => {
    expect(cdkJsonContext['@aws-cdk/core:validateAgainstDefaultRules']).toBe(true);
    // Past the schema on purpose: a dispatcher timeout of 7,200 s, which Lambda refuses at deploy time.
    const oversized = { ...tenantWith(), name: 'oversized' };
    oversized.inbound = { ...oversized.inbound, visibilityTimeoutSeconds: 43_200 };
    const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
    Aspects.of(app).add(new AwsSolutionsChecks());
    const stack = new TenantStack(app, 'FourBizTwitterDm-oversized', { tenant: oversized });
    expect(() => Template.fromStack(stack)).toThrow(/E3717|maximum 900/);
  });

  it('the tenant schema refuses an oversized visibility timeout in one line naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenants-'));
    const file = join(dir, 'big.json');
    writeFileSync(
      file,
      JSON.stringify({ ...JSON.parse(JSON.stringify(tenantWith())), name: 'big', outbound: { visibilityTimeoutSeconds: 43_200 } }),
    );
    let err: Error | undefined;
    try {
      loadTenantConfig('big', dir);
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(TenantConfigError);
    expect(err!.message).toMatch(/^.*big\.json: outbound\.visibilityTimeoutSeconds: at most 5400 \(6 × Lambda's 900 s maximum timeout/);
    expect(err!.message).not.toContain('\n');
    expect(() => tenantWith({ inbound: { visibilityTimeoutSeconds: 5400 } })).not.toThrow();
  });

  it('API throttling above API Gateway\'s account limits is refused', () => {
    expect(() => tenantWith({ api: { throttlingRateLimit: 20_000 } })).toThrow(/api.throttlingRateLimit|10000/);
  });
});

describe('the region you mean', () => {
  it('a tenant file without region is refused, naming the field', () => {
    const parsed = tenantConfigSchema.safeParse({ ...JSON.parse(JSON.stringify(tenantWith())), region: undefined });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toEqual(['region']);
    expect(tenantConfigSchema.safeParse({ ...JSON.parse(JSON.stringify(tenantWith())), region: 'Brazil' }).success).toBe(false);
  });

  it('region and account are the stack\'s environment', () => {
    expect(relay.stack.region).toBe('sa-east-1');
    const pinned = buildStack(tenantWith({ account: '123456789012', region: 'us-east-1' })).stack;
    expect({ region: pinned.region, account: pinned.account }).toEqual({ region: 'us-east-1', account: '123456789012' });
  });
});

describe('names that cannot collide, logs that do not exhaust an account limit', () => {
  it('the access-log group is under /aws/vendedlogs/, unique per stack instance', () => {
    const [, group] = resourceNamed(relay.template, 'AWS::Logs::LogGroup', 'WebhookApiAccessLogs');
    const [separator, parts] = group.Properties!.LogGroupName['Fn::Join'];
    expect(separator).toBe('/');
    expect(parts[0]).toBe('/aws/vendedlogs/4biz-twitter-dm/example/webhook-api');
    expect(JSON.stringify(parts[1])).toContain('AWS::StackId');
  });

  it('the dashboard name has the region, the HTTP API the tenant', () => {
    const [, dashboard] = resourceNamed(relay.template, 'AWS::CloudWatch::Dashboard', 'Dashboard');
    expect(dashboard.Properties!.DashboardName).toBe('4biz-dm-example-sa-east-1');
    relay.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { Name: resourceNames('example').httpApi });
    expect(resourceNames('example').httpApi).toBe('4biz-dm-example-webhook');
  });
});

describe('the dashboard shows the failures the webhook and CRC count', () => {
  it('CRC failures, rejected deliveries, enqueue failures, an empty or unreadable secret', () => {
    const [, dashboard] = resourceNamed(relay.template, 'AWS::CloudWatch::Dashboard', 'Dashboard');
    const body = JSON.stringify(dashboard.Properties!.DashboardBody);
    expect(body).toContain('Webhook and CRC failures');
    for (const name of [Metric.CrcFailed, Metric.WebhookRejected, Metric.EnqueueFailed, Metric.SecretNotFilled, Metric.SecretUnavailable]) {
      expect(body).toContain(`\\"${METRIC_NAMESPACE}\\",\\"${name}\\"`);
    }
  });
});

describe('an alarm for every failure that stops DMs', () => {
  const custom = (name: string, tenant: string) => ({ Namespace: METRIC_NAMESPACE, MetricName: name, Dimensions: expect.arrayContaining([{ Name: 'tenant', Value: tenant }]) });

  it('secret not filled, secret unreadable, enqueue failed: first occurrence of the metric the webhook and crc emit', () => {
    for (const [id, metric] of [
      ['SecretNotFilled', Metric.SecretNotFilled],
      ['SecretUnavailable', Metric.SecretUnavailable],
      ['EnqueueFailed', Metric.EnqueueFailed],
    ]) {
      expect(alarmNamed(relay.template, 'FourBizTwitterDm-example', id)).toMatchObject({
        ...custom(metric, 'example'),
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('API 5xx watches the webhook API', () => {
    const [apiId] = resourceNamed(relay.template, 'AWS::ApiGatewayV2::Api', 'WebhookApi');
    expect(alarmNamed(relay.template, 'FourBizTwitterDm-example', 'WebhookApiServerErrors')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId } }],
      Threshold: 1,
    });
  });

  it('errors and throttles of every function', () => {
    // Alarm prefix → logical id prefix of the function (webhook-health is built by the Health construct).
    for (const [fn, construct] of [['Crc', 'Crc'], ['Webhook', 'Webhook'], ['Dispatcher', 'Dispatcher'], ['WebhookHealth', 'Health'], ['Poller', 'Poller'], ['Sender', 'Sender']]) {
      const [fnId] = functionNamed(tickets.template, construct);
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarmNamed(tickets.template, 'FourBizTwitterDm-example-tickets', `${fn}${metric}`)).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        });
      }
    }
  });

  it('a poller that stopped running: no invocation in three schedule intervals (at least 5 min), missing data breaches', () => {
    const [fnId] = functionNamed(tickets.template, 'Poller');
    expect(alarmNamed(tickets.template, 'FourBizTwitterDm-example-tickets', 'PollerNotRunning')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });
});

describe('the AWS SDK the functions run with', () => {
  it('is inside the bundle (the tested versions), not loaded from the Lambda runtime', async () => {
    const out = await build({
      ...esbuildOptions,
      external: [...esbuildOptions.external],
      entryPoints: [join(functionsDir, 'webhook', 'handler.ts')],
      write: false,
      metafile: true,
      outdir: join(tmpdir(), 'bundle-check'),
      logLevel: 'silent',
    });
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.some((i) => i.includes('node_modules/@aws-sdk/client-sqs/'))).toBe(true);
    const js = out.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
    const sdkRequires = new Set([...js.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]));
    // Only the optional CRT signer (SigV4a, unused here) stays a guarded require, as in any SDK bundle.
    expect([...sdkRequires]).toEqual(['@aws-sdk/signature-v4-crt']);
    // A full esbuild bundle: seconds on a busy 2-core machine, beyond jest's default 5 s.
  }, 60_000);
});
