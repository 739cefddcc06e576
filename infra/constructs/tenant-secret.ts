import { CfnSecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { tenantSecretFields } from '../../functions/config';
import { resourceNames } from '../resource-names';
import type { TenantConfig } from '../tenant-config';

/** `{"consumerKey":"…", …, "fourbizUser?":"…"}`: the shape the functions parse, derived from the schema. */
function tenantSecretShape(): string {
  const fields = tenantSecretFields.map(({ key, optional }) => `"${key}${optional ? '?' : ''}":"…"`);
  return `{${fields.join(',')}}`;
}

/**
 * The tenant's X and 4biz credentials. The stack creates the secret empty: the operator fills it
 * with `aws secretsmanager put-secret-value`, so no credential ever passes through the template.
 */
export class TenantSecret extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: { tenant: TenantConfig }) {
    super(scope, id);
    const { tenant } = props;
    this.secret = emptySecret(this, 'Secret', resourceNames(tenant.name).secret, `X and 4biz credentials of tenant ${tenant.name}. JSON (? = optional): ${tenantSecretShape()}; OAuth 1.0a (the default) needs accessToken and accessTokenSecret, userAuth "oauth2" needs oauth2 (npm run x -- authorize)`);
  }
}

/**
 * Webhook ingestion: the X consumer secret alone, `{"consumerSecret":"…"}`, the only secret the
 * internet-facing crc and webhook functions may read (the tenant secret also holds the 4biz password
 * and X user tokens). Created empty too; `npm run x -- consumer-secret` copies the value from the
 * tenant secret (docs/deploy.md, "Filling the secret").
 */
export class ConsumerSecret extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: { tenant: TenantConfig }) {
    super(scope, id);
    const { name } = props.tenant;
    this.secret = emptySecret(
      this,
      'Secret',
      resourceNames(name).consumerSecret,
      `The X consumer secret of tenant ${name} alone, for the crc and webhook functions. JSON: {"consumerSecret":"…"}; fill it with npm run x -- consumer-secret --tenant ${name}`,
    );
  }
}

/** A secret created without a value: the L2 would generate a random one; empty makes a missing put-secret-value obvious. */
function emptySecret(scope: Construct, id: string, secretName: string, description: string): Secret {
  const secret = new Secret(scope, id, { secretName, description });
  (secret.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
  NagSuppressions.addResourceSuppressions(secret, [
    {
      id: 'AwsSolutions-SMG4',
      reason: 'The X and 4biz credentials are issued by those platforms; a rotation Lambda cannot mint them, the operator rotates them.',
    },
  ]);
  return secret;
}
