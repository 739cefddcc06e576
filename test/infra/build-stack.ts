import { App, Aspects } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TenantStack } from '../../infra/tenant-stack';
import { loadTenantConfig, tenantConfigSchema, type TenantConfig } from '../../infra/tenant-config';

/** Builds a tenant's stack as `cdk synth` does (cdk-nag included), without esbuild bundling. */
export function buildStack(tenant: TenantConfig) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
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
    xAccountId: '1400000000000000001',
    fourbiz: { mode: 'relay', callbackUrl: 'https://empresa.4biz.one/omnichannel/twitter/callback/abc' },
    ...overrides,
  });
}
