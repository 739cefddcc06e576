import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Duration } from 'aws-cdk-lib';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { TenantConfig } from '../tenant-config';
import { BridgeFunction } from './bridge-function';

/** Answers X's CRC challenge with the consumer secret; reads the consumer-secret secret and nothing else. */
export class CrcFunction extends Construct {
  /** The Lambda function this construct builds. */
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: { tenant: TenantConfig; secret: ISecret }) {
    super(scope, id);
    this.fn = new BridgeFunction(this, 'Crc', {
      tenant: props.tenant,
      name: 'crc',
      description: `X CRC answer, tenant ${props.tenant.name}`,
      // X gives a CRC 3 s; a slower answer is a failure anyway.
      timeout: Duration.seconds(5),
      secret: props.secret,
      environment: {},
    }).fn;
  }
}
