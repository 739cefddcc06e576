import { App, Aspects } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TenantStack } from '../../infra/tenant-stack';
import { loadTenantConfig, tenantConfigSchema, type TenantConfig } from '../../infra/tenant-config';

/** The context of cdk.json (feature flags such as template validation warnings as errors), as `cdk synth` reads it. */
export const cdkJsonContext: Record<string, unknown> = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;

/** Builds a tenant's stack as `cdk synth` does (cdk.json context and cdk-nag included), without esbuild bundling. */
export function buildStack(tenant: TenantConfig) {
  const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
  Aspects.of(app).add(new AwsSolutionsChecks());
  const stack = new TenantStack(app, `FourBizTwitterDm-${tenant.name}`, { tenant });
  const template = Template.fromStack(stack);
  return { app, stack, template };
}

export const exampleRelay = () => loadTenantConfig('example');
export const exampleTickets = () => loadTenantConfig('example-tickets');

/** A tenant from the minimum a tenant file needs, with overrides, through the real schema (defaults applied). */
export function tenantWith(overrides: Record<string, unknown> = {}): TenantConfig {
  return tenantConfigSchema.parse({
    name: 'edge',
    region: 'sa-east-1',
    xAccountId: '1400000000000000001',
    fourbiz: { mode: 'relay', callbackUrl: 'https://empresa.4biz.one/omnichannel/twitter/callback/abc' },
    ...overrides,
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation template JSON: the tests read arbitrary nested properties.
type Resource = { Type: string; Properties?: Record<string, any>; Metadata?: Record<string, any>; [k: string]: unknown };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** Logical id and resource of the one resource of `type` whose logical id starts with `prefix`. */
export function resourceNamed(template: Template, type: string, prefix: string): [string, Resource] {
  const found = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${found.map(([id]) => id).join(', ') || 'none'}`);
  return found[0] as [string, Resource];
}

/** The Lambda function built by the construct with this id (Crc, Webhook, Dispatcher, Poller, Sender). */
export const functionNamed = (template: Template, id: string) => resourceNamed(template, 'AWS::Lambda::Function', id);

/** Every IAM statement attached to a function's role. */
export function statementsOf(template: Template, functionId: string): Statement[] {
  const role: string = functionNamed(template, functionId)[1].Properties!.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: role })))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** The actions a function may perform on the resource with this logical id. */
export function actionsOn(statements: Statement[], logicalId: string): string[] {
  return statements
    .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).includes(`"${logicalId}"`))
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
    .sort();
}
