import { Aws, Fn } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { resourceNames } from '../resource-names';
import type { TenantConfig } from '../tenant-config';
import { logRetention } from './bridge-function';
import { WEBHOOK_PATH } from '../../functions/core/x-signature';


export interface WebhookApiProps {
  tenant: TenantConfig;
  crcFunction: IFunction;
  webhookFunction: IFunction;
}

/** The HTTP API X calls: CRC checks (GET) and signed Account Activity deliveries (POST). */
export class WebhookApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogGroup: LogGroup;
  /** The URL to register with X. */
  readonly webhookUrl: string;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    const names = resourceNames(props.tenant.name);
    this.api = new HttpApi(this, 'Api', {
      apiName: names.httpApi,
      description: `X webhook of tenant ${props.tenant.name}`,
      createDefaultStage: false,
    });
    this.api.addRoutes({
      path: WEBHOOK_PATH,
      methods: [HttpMethod.GET],
      integration: new HttpLambdaIntegration('Crc', props.crcFunction),
    });
    this.api.addRoutes({
      path: WEBHOOK_PATH,
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('Webhook', props.webhookFunction),
    });
    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      // The stack id's unique part ends the name: the group is kept when the stack is deleted, and a
      // redeployed stack must not collide with it.
      logGroupName: Fn.join('/', [names.accessLogGroupPrefix, Fn.select(2, Fn.split('/', Aws.STACK_ID))]),
      retention: logRetention(props.tenant.logRetentionDays),
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.tenant.api.throttlingRateLimit, burstLimit: props.tenant.api.throttlingBurstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        // No query string: the log shows the route, never the crc_token.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            sourceIp: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.webhookUrl = `${this.stage.url}${WEBHOOK_PATH.slice(1)}`;
    NagSuppressions.addResourceSuppressions(
      this.api,
      [
        {
          id: 'AwsSolutions-APIG4',
          reason: 'X cannot send auth: the signature (x-twitter-webhooks-signature, HMAC of the body) is verified in the function.',
        },
      ],
      true,
    );
  }
}
