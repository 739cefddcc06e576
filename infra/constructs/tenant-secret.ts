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
    this.secret = new Secret(this, 'Secret', {
      secretName: resourceNames(props.tenant.name).secret,
      description: `X and 4biz credentials of tenant ${props.tenant.name}. JSON (? = optional): ${tenantSecretShape()}; OAuth 1.0a (the default) needs accessToken and accessTokenSecret, userAuth "oauth2" needs oauth2 (npm run x -- authorize)`,
    });
    // The L2 would generate a random value; an empty secret makes a missing put-secret-value obvious.
    (this.secret.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    NagSuppressions.addResourceSuppressions(this.secret, [
      {
        id: 'AwsSolutions-SMG4',
        reason: 'The X and 4biz credentials are issued by those platforms; a rotation Lambda cannot mint them, the operator rotates them.',
      },
    ]);
  }
}
