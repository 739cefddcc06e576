import { RemovalPolicy } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { TenantConfig } from '../tenant-config';

/**
 * XChat (tenant `x.xchat`): the tenant's KMS key that wraps the conversation keys kept in the
 * conversation table. Only the functions that decrypt or encrypt XChat messages (dispatcher,
 * sender) may use it; every other reader of the table sees wrapped keys only. The company's own
 * private keys never come here: they live in the tenant secret.
 */
export class XChatKeys extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: { tenant: TenantConfig }) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: `XChat conversation keys of 4biz-twitter-dm tenant ${props.tenant.name}`,
      enableKeyRotation: true,
      // Without it the stored conversation keys are unreadable: the key outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Wrap and unwrap conversation keys, nothing else. */
  grantUse(grantee: IGrantable): void {
    this.key.grant(grantee, 'kms:Encrypt', 'kms:Decrypt');
  }
}
