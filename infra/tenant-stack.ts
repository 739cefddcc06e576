import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { EmittingFunction } from '../functions/core/metric-names';
import type { Construct } from 'constructs';
import { resourceNames } from './resource-names';
import type { TenantConfig } from './tenant-config';
import { Alarms } from './constructs/alarms';
import { ConversationTable } from './constructs/conversation-table';
import { CrcFunction } from './constructs/crc-function';
import { Dashboard } from './constructs/dashboard';
import { Dispatcher } from './constructs/dispatcher';
import { DmPoller } from './constructs/dm-poller';
import { FifoQueue } from './constructs/fifo-queue';
import { Poller } from './constructs/poller';
import { Sender } from './constructs/sender';
import { ConsumerSecret, TenantSecret } from './constructs/tenant-secret';
import { WebhookApi } from './constructs/webhook-api';
import { WebhookFunction } from './constructs/webhook-function';
import { WebhookHealth } from './constructs/webhook-health';
import { XChatKeys } from './constructs/xchat-keys';

export interface TenantStackProps extends Omit<StackProps, 'env'> {
  tenant: TenantConfig;
}

/** Everything one tenant runs on: composed from the constructs, no resources of its own. */
export class TenantStack extends Stack {
  constructor(scope: Construct, id: string, props: TenantStackProps) {
    // The tenant file's region (required) and account (optional) are the stack's environment.
    super(scope, id, {
      description: `4biz-twitter-dm bridge of tenant ${props.tenant.name}`,
      ...props,
      env: { region: props.tenant.region, account: props.tenant.account },
    });
    const { tenant } = props;
    const names = resourceNames(tenant.name);

    const { secret } = new TenantSecret(this, 'TenantSecret', { tenant });
    const table = new ConversationTable(this, 'Conversations', { tenant });
    const inbound = new FifoQueue(this, 'Inbound', {
      queueName: names.inboundQueue,
      dlqName: names.inboundDlq,
      visibilityTimeoutSeconds: tenant.inbound.visibilityTimeoutSeconds,
    });

    // XChat: the key wrapping stored conversation keys, usable by the dispatcher and the sender only.
    const xchat = tenant.x.xchat ? new XChatKeys(this, 'XChat', { tenant }) : undefined;
    const dispatcher = new Dispatcher(this, 'Dispatcher', { tenant, secret, table, inbound, xchat });
    const functions: Partial<Record<EmittingFunction, IFunction>> = {};
    // Webhook ingestion: a public HTTP API X calls, and its health check. Polling: no endpoint at all, a scheduled poller instead.
    let api: WebhookApi | undefined;
    let consumerSecret: ISecret | undefined;
    if (tenant.x.ingestion === 'webhook') {
      // The internet-facing functions read the consumer secret alone, never the tenant secret.
      consumerSecret = new ConsumerSecret(this, 'ConsumerSecret', { tenant }).secret;
      const crc = new CrcFunction(this, 'Crc', { tenant, secret: consumerSecret });
      const webhook = new WebhookFunction(this, 'Webhook', { tenant, secret: consumerSecret, inboundQueue: inbound.queue, table });
      api = new WebhookApi(this, 'WebhookApi', { tenant, crcFunction: crc.fn, webhookFunction: webhook.fn });
      const health = new WebhookHealth(this, 'Health', { tenant, secret, table, webhookUrl: api.webhookUrl });
      Object.assign(functions, { crc: crc.fn, webhook: webhook.fn, 'webhook-health': health.fn });
    } else {
      const dmPoller = new DmPoller(this, 'DmPoller', { tenant, secret, table, inboundQueue: inbound.queue });
      functions['dm-poller'] = dmPoller.fn;
    }
    functions.dispatcher = dispatcher.fn;

    let outbound: FifoQueue | undefined;
    let poller: Poller | undefined;
    if (tenant.fourbiz.mode === 'tickets') {
      outbound = new FifoQueue(this, 'Outbound', {
        queueName: names.outboundQueue,
        dlqName: names.outboundDlq,
        visibilityTimeoutSeconds: tenant.outbound.visibilityTimeoutSeconds,
      });
      poller = new Poller(this, 'Poller', { tenant, settings: tenant.fourbiz, secret, table, outboundQueue: outbound.queue });
      const sender = new Sender(this, 'Sender', { tenant, secret, table, outboundQueue: outbound.queue, outboundDlq: outbound.dlq, xchat });
      Object.assign(functions, { poller: poller.fn, sender: sender.fn });
    }

    const alarms = new Alarms(this, 'Alarms', {
      tenant,
      api: api?.api,
      inboundQueue: inbound.queue,
      inboundDlq: inbound.dlq,
      functions,
      outbound,
      poller: poller && tenant.fourbiz.mode === 'tickets' ? { fn: poller.fn, scheduleMinutes: tenant.fourbiz.pollScheduleMinutes } : undefined,
    });
    const dashboard = new Dashboard(this, 'Dashboard', {
      tenant,
      api: api?.api,
      inboundQueue: inbound.queue,
      inboundDlq: inbound.dlq,
      outbound,
      functions,
      alarms: alarms.alarms,
    });

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    if (api) output('WebhookUrl', api.webhookUrl, 'Register this URL with X (npm run x -- register)');
    output('SecretArn', secret.secretArn, 'Fill with the X and 4biz credentials (docs/deploy.md)');
    if (consumerSecret) output('ConsumerSecretArn', consumerSecret.secretArn, 'The X consumer secret alone, for crc and webhook: npm run x -- consumer-secret copies it');
    output('InboundQueueUrl', inbound.queue.queueUrl, 'DMs waiting for 4biz');
    output('InboundDlqUrl', inbound.dlq.queueUrl, 'DMs 4biz never accepted');
    if (outbound) {
      output('OutboundQueueUrl', outbound.queue.queueUrl, '4biz replies waiting to be sent to X');
      output('OutboundDlqUrl', outbound.dlq.queueUrl, '4biz replies that could not be sent to X');
    }
    output('TableName', table.tableName, 'Conversation state');
    output('AlarmTopicArn', alarms.topic.topicArn, 'Alarm notifications; subscribe more endpoints here');
    output('DashboardUrl', dashboard.url, 'CloudWatch dashboard');
  }
}
