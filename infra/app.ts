import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { join } from 'node:path';
import { resourceNames } from './resource-names';
import { TenantStack } from './tenant-stack';
import { loadTenantConfig, TenantConfigError, tenantsDir } from './tenant-config';

/** `cdk synth|deploy -c tenant=NAME`: one stack for the tenant described by tenants/NAME.json. */
const app = new App();
Aspects.of(app).add(new AwsSolutionsChecks());

try {
  const name: unknown = app.node.tryGetContext('tenant');
  if (typeof name !== 'string' || name === '') {
    throw new TenantConfigError('no tenant: pass -c tenant=NAME to use tenants/NAME.json');
  }
  const tenant = loadTenantConfig(name);
  try {
    new TenantStack(app, resourceNames(tenant.name).stack, { tenant });
  } catch (err) {
    // The constructs reject settings AWS would reject at deploy time; point at the file to fix.
    if (err instanceof TenantConfigError) throw new TenantConfigError(`${join(tenantsDir, `${name}.json`)}: ${err.message}`);
    throw err;
  }
} catch (err) {
  // A configuration mistake is one line for the operator, not a stack trace.
  if (!(err instanceof TenantConfigError)) throw err;
  process.stderr.write(`error: ${err.message}\n`);
  process.exit(1);
}
