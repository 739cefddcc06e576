import { Duration } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { functionEnvironment, readsConsumerSecretOnly, type FunctionEnvironmentValues, type FunctionName } from '../../functions/config';
import { METRIC_NAMESPACE, SERVICE_NAME } from '../../functions/core/metric-names';
import { TenantConfigError, type TenantConfig } from '../tenant-config';

/**
 * How every function is bundled. Exported so the bundle-size benchmark builds exactly what we
 * deploy. Nothing is external, the AWS SDK included: the SDK the Lambda runtime ships changes
 * version without notice and may lack packages we use (@aws-sdk/lib-dynamodb is not documented
 * as included), so the functions run the SDK versions the tests ran with.
 */
/** The Lambdas' runtime; `npm test` runs on the same Node major (the `node` devDependency). */
export const runtime = Runtime.NODEJS_24_X;

export const bundling = {
  minify: true,
  sourceMap: true,
  target: 'node24',
  format: OutputFormat.CJS,
  externalModules: [],
} as const satisfies BundlingOptions;

/** The same bundling as esbuild `build()` options (what NodejsFunction passes to esbuild). */
export const esbuildOptions = {
  bundle: true,
  platform: 'node',
  target: bundling.target,
  format: 'cjs',
  minify: bundling.minify,
  sourcemap: bundling.sourceMap,
  external: [...bundling.externalModules],
} as const;

const validRetentions = new Set<number>(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'));

/** A retention CloudWatch Logs accepts; a tenant file with another value fails at synth, not at deploy. */
export function logRetention(days: number): RetentionDays {
  if (!validRetentions.has(days)) {
    throw new TenantConfigError(
      `logRetentionDays ${days} is not a CloudWatch Logs retention (use one of ${[...validRetentions]
        .filter((d) => d !== RetentionDays.INFINITE)
        .sort((a, b) => a - b)
        .join(', ')}, or ${RetentionDays.INFINITE} to keep logs forever)`,
    );
  }
  return days as RetentionDays;
}

export const functionsDir = join(__dirname, '..', '..', 'functions');

/**
 * chat-xdk (XChat) is not bundled: its WASM engine is found at run time next to its package
 * (functions/adapters/xchat-engine.ts). The functions that use it get the package copied into
 * their asset's node_modules after bundling; the bundle loads it lazily, on the first XChat message.
 */
export const withChatXdk = {
  ...bundling,
  commandHooks: {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir: string, outputDir: string) => [
      `mkdir -p "${outputDir}/node_modules/@xdevplatform"`,
      `cp -R "${inputDir}/node_modules/@xdevplatform/chat-xdk" "${outputDir}/node_modules/@xdevplatform/"`,
    ],
  },
} as const satisfies BundlingOptions;

export interface BridgeFunctionProps<F extends FunctionName> {
  tenant: TenantConfig;
  /** Folder under functions/ holding `handler.ts`. */
  name: F;
  description: string;
  timeout: Duration;
  /**
   * The one secret the function may read (config.ts requires its ARN): the tenant secret, or for
   * the internet-facing crc and webhook the consumer-secret secret (readsConsumerSecretOnly).
   */
  secret: ISecret;
  /** The function's own variables (tenant and secret are set here for all), as functions/config.ts types them. */
  environment: Omit<FunctionEnvironmentValues<F>, 'tenant' | 'secretArn' | 'consumerSecretArn'>;
  /** The function reads or answers XChat: chat-xdk ships with it (see withChatXdk). */
  chatXdk?: boolean;
}

/** A bridge Lambda: the settings all functions share, its own log group and a role that can write only there. */
export class BridgeFunction<F extends FunctionName = FunctionName> extends Construct {
  /** Its folder under functions/: what its code emits is core/metric-names.ts `emittedBy[name]`. */
  readonly name: F;
  readonly fn: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: BridgeFunctionProps<F>) {
    super(scope, id);
    this.name = props.name;
    this.logGroup = new LogGroup(this, 'LogGroup', { retention: logRetention(props.tenant.logRetentionDays) });
    // An own role instead of AWSLambdaBasicExecutionRole: logs go to this log group only.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.name} function of tenant ${props.tenant.name}`,
    });
    this.logGroup.grantWrite(role);
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(functionsDir, props.name, 'handler.ts'),
      handler: 'handler',
      description: props.description,
      runtime,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: props.timeout,
      role,
      logGroup: this.logGroup,
      bundling: props.chatXdk ? withChatXdk : bundling,
      environment: {
        ...functionEnvironment(props.name, {
          ...props.environment,
          tenant: props.tenant.name,
          [readsConsumerSecretOnly(props.name) ? 'consumerSecretArn' : 'secretArn']: props.secret.secretArn,
        } as unknown as FunctionEnvironmentValues<F>),
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // Stack traces point into the TypeScript sources.
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    props.secret.grantRead(this.fn);
    NagSuppressions.addResourceSuppressions(this.fn, [
      {
        id: 'AwsSolutions-L1',
        reason: 'Pinned to Node.js 24, the runtime the functions are built (esbuild target node24) and tested on (npm test runs the node devDependency).',
      },
    ]);
  }
}
