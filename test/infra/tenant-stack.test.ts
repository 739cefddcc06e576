import { Match, Template } from 'aws-cdk-lib/assertions';
import { Env, tenantSecretFields } from '../../functions/config';
import { TableLayout } from '../../functions/adapters/conversation-table';
import { METRIC_NAMESPACE, SERVICE_NAME } from '../../functions/core/metric-names';
import { bundling, esbuildOptions, runtime } from '../../infra/constructs/bridge-function';
import { resourceNames } from '../../infra/resource-names';
import { loadTenantConfig, TenantConfigError, type TenantConfig } from '../../infra/tenant-config';
import { actionsOn, buildStack, exampleRelay, exampleTickets, functionNamed, resourceNamed, statementsOf, tenantWith } from './build-stack';

const relay = exampleRelay();
const tickets = exampleTickets();
let relayTemplate: Template;
let ticketsTemplate: Template;

beforeAll(() => {
  relayTemplate = buildStack(relay).template;
  ticketsTemplate = buildStack(tickets).template;
});

const both = () =>
  [
    ['relay', relay, relayTemplate],
    ['tickets', tickets, ticketsTemplate],
  ] as [string, TenantConfig, Template][];

describe('tenant secret', () => {
  it('is named after the tenant and created empty: no value, generated or given, in the template', () => {
    for (const [, tenant, template] of both()) {
      // Webhook ingestion adds the consumer-secret secret (crc and webhook read only it).
      template.resourceCountIs('AWS::SecretsManager::Secret', 2);
      const [, secret] = resourceNamed(template, 'AWS::SecretsManager::Secret', 'TenantSecret');
      const [, consumer] = resourceNamed(template, 'AWS::SecretsManager::Secret', 'ConsumerSecret');
      expect(secret.Properties!.Name).toBe(resourceNames(tenant.name).secret);
      expect(consumer.Properties!.Name).toBe(resourceNames(tenant.name).consumerSecret);
      for (const s of [secret, consumer]) {
        expect(s.Properties).not.toHaveProperty('SecretString');
        expect(s.Properties).not.toHaveProperty('GenerateSecretString');
      }
    }
  });

  it('crc and webhook, the internet-facing functions, can read the consumer secret and not the tenant secret (4biz password, X user tokens); every other function reads the tenant secret and not the consumer one', () => {
    for (const [, , template] of both()) {
      const [tenantSecretId] = resourceNamed(template, 'AWS::SecretsManager::Secret', 'TenantSecret');
      const [consumerId] = resourceNamed(template, 'AWS::SecretsManager::Secret', 'ConsumerSecret');
      const secretIds = (id: string) => {
        const statements = statementsOf(template, id).filter((st) => [st.Action].flat().some((a) => a.startsWith('secretsmanager:')));
        return statements.map((st) => JSON.stringify(st.Resource));
      };
      for (const id of ['Crc', 'Webhook']) {
        expect(secretIds(id)).toEqual([expect.stringContaining(`"${consumerId}"`)]);
        expect(secretIds(id).join()).not.toContain(tenantSecretId);
        expect(functionNamed(template, id)[1].Properties!.Environment.Variables).toMatchObject({ [Env.consumerSecretArn]: { Ref: consumerId } });
        expect(functionNamed(template, id)[1].Properties!.Environment.Variables).not.toHaveProperty(Env.secretArn);
      }
      const others = Object.entries(template.findResources('AWS::Lambda::Function'))
        .filter(([id, fn]) => fn.Properties.Environment?.Variables?.[Env.tenant] && !id.startsWith('Crc') && !id.startsWith('Webhook'))
        .map(([id]) => id);
      expect(others.length).toBeGreaterThanOrEqual(2);
      for (const id of others) {
        expect(secretIds(id).join()).toContain(tenantSecretId);
        expect(secretIds(id).join()).not.toContain(consumerId);
      }
    }
  });

  it('a polling tenant has no consumer-secret secret (no crc or webhook function)', () => {
    const { template } = buildStack(loadTenantConfig('example-poll'));
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  it('describes the JSON shape the functions expect, every field of the schema', () => {
    const [, secret] = resourceNamed(relayTemplate, 'AWS::SecretsManager::Secret', 'TenantSecret');
    for (const { key } of tenantSecretFields) expect(secret.Properties!.Description).toContain(`"${key}`);
  });
});

describe('conversation table', () => {
  it('is on-demand with point-in-time recovery, TTL on expiresAt and the open-conversations index', () => {
    relayTemplate.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        TableName: resourceNames('example').table,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: TableLayout.partitionKey, KeyType: 'HASH' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        GlobalSecondaryIndexes: [
          {
            IndexName: 'open-conversations',
            KeySchema: [
              { AttributeName: TableLayout.openIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: TableLayout.openIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      },
    });
  });
});

describe('queues', () => {
  const highThroughputFifo = {
    FifoQueue: true,
    DeduplicationScope: 'messageGroup',
    FifoThroughputLimit: 'perMessageGroupId',
    SqsManagedSseEnabled: true,
  };

  it('inbound is a high-throughput FIFO queue with a FIFO DLQ kept 14 days and no redrive policy (only the dispatcher moves DMs there), settings from the tenant file', () => {
    const names = resourceNames('example');
    const [dlqId] = resourceNamed(relayTemplate, 'AWS::SQS::Queue', 'InboundDlq');
    relayTemplate.hasResourceProperties('AWS::SQS::Queue', {
      ...highThroughputFifo,
      QueueName: names.inboundDlq,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    relayTemplate.hasResourceProperties('AWS::SQS::Queue', {
      ...highThroughputFifo,
      QueueName: names.inboundQueue,
      VisibilityTimeout: relay.inbound.visibilityTimeoutSeconds,
    });
    expect(dlqId).toBeDefined();
    // SQS would count receives of DMs waiting behind a failing one: no queue of either mode redrives.
    for (const [, , template] of both()) {
      for (const q of Object.values(template.findResources('AWS::SQS::Queue'))) expect(q.Properties.RedrivePolicy).toBeUndefined();
    }
  });

  it('relay mode has no outbound queues; tickets mode has outbound + DLQ with the outbound settings', () => {
    relayTemplate.resourceCountIs('AWS::SQS::Queue', 2);
    ticketsTemplate.resourceCountIs('AWS::SQS::Queue', 4);
    const names = resourceNames('example-tickets');
    const [dlqId] = resourceNamed(ticketsTemplate, 'AWS::SQS::Queue', 'OutboundDlq');
    ticketsTemplate.hasResourceProperties('AWS::SQS::Queue', { ...highThroughputFifo, QueueName: names.outboundDlq });
    ticketsTemplate.hasResourceProperties('AWS::SQS::Queue', {
      ...highThroughputFifo,
      QueueName: names.outboundQueue,
      VisibilityTimeout: tickets.outbound.visibilityTimeoutSeconds,
    });
    expect(dlqId).toBeDefined();
  });

  it('every queue and DLQ keeps messages 14 days (SQS\'s maximum, not its 4-day default) and takes messages up to 1 MiB', () => {
    for (const [, , template] of both()) {
      const queues = Object.values(template.findResources('AWS::SQS::Queue'));
      expect(queues.length).toBeGreaterThan(0);
      for (const q of queues) expect(q.Properties).toMatchObject({ MessageRetentionPeriod: 1_209_600, MaximumMessageSize: 1_048_576 });
    }
  });

  it('every queue refuses requests without TLS', () => {
    for (const [, , template] of both()) {
      const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
      const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
      for (const queue of queues) {
        const policy = policies.find((p) => JSON.stringify(p.Properties.Queues).includes(`"${queue}"`));
        expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        );
      }
    }
  });

  it('takes the visibility timeout and the outage wait from the tenant file', () => {
    const tenant = tenantWith({ inbound: { visibilityTimeoutSeconds: 600, outageWaitHours: 12 }, outbound: {} });
    const { template } = buildStack(tenant);
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: resourceNames('edge').inboundQueue,
      VisibilityTimeout: 600,
    });
    expect(functionNamed(template, 'Dispatcher')[1].Properties!.Environment.Variables).toMatchObject({ OUTAGE_WAIT_HOURS: '12' });
    // The dispatcher's time budget follows: a sixth of the visibility timeout.
    expect(functionNamed(template, 'Dispatcher')[1].Properties!.Timeout).toBe(100);
  });
});

describe('functions', () => {
  it('relay mode runs crc, webhook, dispatcher and webhook health; tickets mode adds poller and sender', () => {
    relayTemplate.resourceCountIs('AWS::Lambda::Function', 4);
    ticketsTemplate.resourceCountIs('AWS::Lambda::Function', 6);
    for (const id of ['Crc', 'Webhook', 'Dispatcher', 'HealthWebhookHealth']) expect(() => functionNamed(relayTemplate, id)).not.toThrow();
    for (const id of ['Poller', 'Sender']) expect(() => functionNamed(ticketsTemplate, id)).not.toThrow();
  });

  it('all run Node.js 24 on arm64 with Powertools settings, the tenant and the secret ARN, logging to their own log group', () => {
    for (const [, tenant, template] of both()) {
      const [tenantSecretId] = resourceNamed(template, 'AWS::SecretsManager::Secret', 'TenantSecret');
      const [consumerId] = resourceNamed(template, 'AWS::SecretsManager::Secret', 'ConsumerSecret');
      for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
        const p = fn.Properties;
        const consumerOnly = id.startsWith('Crc') || id.startsWith('Webhook');
        expect(p.Environment.Variables[consumerOnly ? Env.consumerSecretArn : Env.secretArn]).toEqual({ Ref: consumerOnly ? consumerId : tenantSecretId });
        expect(p.Runtime).toBe('nodejs24.x');
        expect(p.Architectures).toEqual(['arm64']);
        expect(p.Handler).toBe('index.handler');
        expect(p.Environment.Variables).toMatchObject({
          [Env.tenant]: tenant.name,
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
          POWERTOOLS_LOG_LEVEL: 'INFO',
        });
        const logGroupId = p.LoggingConfig.LogGroup.Ref;
        expect(template.toJSON().Resources[logGroupId]).toMatchObject({
          Type: 'AWS::Logs::LogGroup',
          Properties: { RetentionInDays: tenant.logRetentionDays },
        });
      }
    }
  });

  it('log retention comes from the tenant file, and a retention CloudWatch does not offer fails at synth', () => {
    const { template } = buildStack(tenantWith({ logRetentionDays: 14 }));
    const retentions = Object.values(template.findResources('AWS::Logs::LogGroup')).map((g) => g.Properties.RetentionInDays);
    expect(new Set(retentions)).toEqual(new Set([14]));
    expect(() => buildStack(tenantWith({ logRetentionDays: 31 }))).toThrow(TenantConfigError);
    expect(() => buildStack(tenantWith({ logRetentionDays: 31 }))).toThrow(/logRetentionDays 31/);
  });

  it('bundles minified with source maps, the AWS SDK included (nothing left to the runtime), as the exported options say', () => {
    expect(bundling).toMatchObject({ minify: true, sourceMap: true, target: 'node24', externalModules: [] });
    expect(esbuildOptions).toMatchObject({ bundle: true, platform: 'node', minify: true, sourcemap: true, external: [] });
  });

  it('the suite runs on the Node major the functions are deployed on and bundled for', () => {
    const major = process.versions.node.split('.')[0];
    expect(runtime.name).toBe(`nodejs${major}.x`);
    expect(bundling.target).toBe(`node${major}`);
  });

  it('no function uses the broad AWSLambdaBasicExecutionRole: each role writes only its own log group', () => {
    for (const [, , template] of both()) {
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
        const logActions = statementsOf(template, id.replace(/Function.*/, '')).filter((s) =>
          JSON.stringify(s.Action).includes('logs:'),
        );
        expect(logActions.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [fn.Properties.LoggingConfig.LogGroup.Ref, 'Arn'] }]);
      }
    }
  });
});

describe('webhook API', () => {
  it('routes GET /webhooks/twitter to the crc function and POST to the webhook function', () => {
    for (const [method, fnId] of [
      ['GET', 'Crc'],
      ['POST', 'Webhook'],
    ]) {
      const [fnLogicalId] = functionNamed(relayTemplate, fnId);
      const route = Object.values(relayTemplate.findResources('AWS::ApiGatewayV2::Route')).find(
        (r) => r.Properties.RouteKey === `${method} /webhooks/twitter`,
      );
      const integrationId = route!.Properties.Target['Fn::Join'][1][1].Ref;
      expect(relayTemplate.toJSON().Resources[integrationId].Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: { 'Fn::GetAtt': [fnLogicalId, 'Arn'] },
      });
    }
    relayTemplate.resourceCountIs('AWS::ApiGatewayV2::Route', 2);
    relayTemplate.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
  });

  it('throttles the default stage as the tenant file says and writes access logs to a log group', () => {
    const { template } = buildStack(tenantWith({ api: { throttlingRateLimit: 5, throttlingBurstLimit: 7 } }));
    const [logGroupId] = resourceNamed(template, 'AWS::Logs::LogGroup', 'WebhookApiAccessLogs');
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 7 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] }, Format: Match.stringLikeRegexp('context.requestId') },
    });
  });
});

describe('dispatcher', () => {
  it('consumes the inbound queue with the tenant batch settings and reports per-message failures', () => {
    const [fnId, fn] = functionNamed(relayTemplate, 'Dispatcher');
    const [queueId] = resourceNamed(relayTemplate, 'AWS::SQS::Queue', 'InboundQueue');
    relayTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId },
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: relay.inbound.batchSize,
      ScalingConfig: { MaximumConcurrency: relay.inbound.maxConcurrency },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumBatchingWindowInSeconds: Match.absent(),
    });
    expect(fn.Properties!.Timeout).toBe(Math.floor(relay.inbound.visibilityTimeoutSeconds / 6));
  });

  it('gets the table, secret, 4biz settings, idle timeout and queue URLs as environment', () => {
    for (const [, tenant, template] of both()) {
      const [, fn] = functionNamed(template, 'Dispatcher');
      const [tableId] = resourceNamed(template, 'AWS::DynamoDB::Table', 'Conversations');
      const [queueId] = resourceNamed(template, 'AWS::SQS::Queue', 'InboundQueue');
      const [dlqId] = resourceNamed(template, 'AWS::SQS::Queue', 'InboundDlq');
      expect(fn.Properties!.Environment.Variables).toMatchObject({
        [Env.tableName]: { Ref: tableId },
        [Env.fourbiz]: JSON.stringify(tenant.fourbiz),
        [Env.conversationIdleMinutes]: String(tenant.conversationIdleMinutes),
        [Env.inboundQueueUrl]: { Ref: queueId },
        [Env.inboundDlqUrl]: { Ref: dlqId },
      });
    }
  });

  it('may use the table, read the secret, consume and back off inbound messages, park failures in the DLQ, nothing more', () => {
    const statements = statementsOf(relayTemplate, 'Dispatcher');
    const [tableId] = resourceNamed(relayTemplate, 'AWS::DynamoDB::Table', 'Conversations');
    const [secretId] = resourceNamed(relayTemplate, 'AWS::SecretsManager::Secret', 'TenantSecret');
    const [queueId] = resourceNamed(relayTemplate, 'AWS::SQS::Queue', 'InboundQueue');
    const [dlqId] = resourceNamed(relayTemplate, 'AWS::SQS::Queue', 'InboundDlq');
    // Least privilege (issue 8 §9): exactly the item actions the dispatcher uses, no Query/Scan/Delete/batch.
    expect(actionsOn(statements, tableId)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(actionsOn(statements, secretId)).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(actionsOn(statements, queueId)).toEqual(expect.arrayContaining(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']));
    expect(actionsOn(statements, queueId)).not.toContain('sqs:SendMessage');
    expect(actionsOn(statements, dlqId)).toContain('sqs:SendMessage');
    expect(actionsOn(statements, dlqId)).not.toContain('sqs:ReceiveMessage');
  });
});

describe('crc and webhook functions', () => {
  it('crc may only read the consumer secret (and write its logs)', () => {
    const statements = statementsOf(relayTemplate, 'Crc');
    const [secretId] = resourceNamed(relayTemplate, 'AWS::SecretsManager::Secret', 'ConsumerSecret');
    const actions = statements.flatMap((s) => [s.Action].flat()).filter((a) => !a.startsWith('logs:'));
    expect(actions.sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(actionsOn(statements, secretId)).toEqual(actions);
  });

  it('webhook may read the consumer secret, send to the inbound queue, update its refusals item and put parked DMs alone, and knows the queue URL and the table', () => {
    const statements = statementsOf(relayTemplate, 'Webhook');
    const [queueId] = resourceNamed(relayTemplate, 'AWS::SQS::Queue', 'InboundQueue');
    const [secretId] = resourceNamed(relayTemplate, 'AWS::SecretsManager::Secret', 'ConsumerSecret');
    const [tableId] = resourceNamed(relayTemplate, 'AWS::DynamoDB::Table', 'Conversations');
    expect(actionsOn(statements, queueId)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    expect(actionsOn(statements, queueId)).not.toContain('sqs:ReceiveMessage');
    expect(actionsOn(statements, secretId)).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    // A refused signed delivery is recorded for webhook health to replay: UpdateItem on the WEBHOOK#refused key;
    // a DM the queue refused is parked: PutItem under PARKED#IN# keys. Nothing else of the table.
    const dynamo = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(2);
    expect(dynamo).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 'dynamodb:UpdateItem', Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['WEBHOOK#refused'] } } }),
        expect.objectContaining({ Action: 'dynamodb:PutItem', Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['PARKED#IN#*'] } } }),
      ]),
    );
    expect(actionsOn(statements, tableId).sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(functionNamed(relayTemplate, 'Webhook')[1].Properties!.Environment.Variables[Env.tableName]).toEqual({ Ref: tableId });
    expect(functionNamed(relayTemplate, 'Webhook')[1].Properties!.Environment.Variables[Env.inboundQueueUrl]).toEqual({ Ref: queueId });
    // X Activity API deliveries for another account are dropped: the webhook knows the tenant's.
    expect(functionNamed(relayTemplate, 'Webhook')[1].Properties!.Environment.Variables[Env.xAccountId]).toBe(relay.xAccountId);
  });
});

describe('webhook health', () => {
  it('runs every 15 minutes, without retries (the next run starts over)', () => {
    for (const [, , template] of both()) {
      const [healthId] = functionNamed(template, 'HealthWebhookHealth');
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(15 minutes)',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [healthId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
      });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: healthId }, MaximumRetryAttempts: 0 });
    }
  });

  it('knows the table and the webhook URL it checks (the API stage URL + webhooks/twitter)', () => {
    const [, fn] = functionNamed(relayTemplate, 'HealthWebhookHealth');
    const [tableId] = resourceNamed(relayTemplate, 'AWS::DynamoDB::Table', 'Conversations');
    const vars = fn.Properties!.Environment.Variables;
    expect(vars[Env.tableName]).toEqual({ Ref: tableId });
    expect(JSON.stringify(vars[Env.webhookUrl])).toContain('webhooks/twitter');
    expect(fn.Properties!.Timeout).toBe(60);
  });

  it('may get and put its state item, delete the webhook\'s refusals item once in a gap, and read the secret, nothing more', () => {
    const statements = statementsOf(relayTemplate, 'HealthWebhookHealth');
    const [tableId] = resourceNamed(relayTemplate, 'AWS::DynamoDB::Table', 'Conversations');
    const [secretId] = resourceNamed(relayTemplate, 'AWS::SecretsManager::Secret', 'TenantSecret');
    expect(actionsOn(statements, tableId)).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(actionsOn(statements, secretId)).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    const other = statements.flatMap((s) => [s.Action].flat()).filter((a) => !a.startsWith('logs:') && !a.startsWith('dynamodb:') && !a.startsWith('secretsmanager:'));
    expect(other).toEqual([]);
  });
});

describe('tickets mode: poller and sender', () => {
  it('polls 4biz on the tenant schedule', () => {
    const [pollerId] = functionNamed(ticketsTemplate, 'Poller');
    ticketsTemplate.resourceCountIs('AWS::Events::Rule', 2);
    ticketsTemplate.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [pollerId, 'Arn'] } })],
    });
    const every5 = tenantWith({ fourbiz: { ...tickets.fourbiz, pollScheduleMinutes: 5 } });
    buildStack(every5).template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    // Relay mode schedules only the webhook health.
    relayTemplate.resourceCountIs('AWS::Events::Rule', 1);
  });

  it('the poller queues replies on the outbound queue and uses the table and the secret', () => {
    const statements = statementsOf(ticketsTemplate, 'Poller');
    const [queueId] = resourceNamed(ticketsTemplate, 'AWS::SQS::Queue', 'OutboundQueue');
    const [tableId] = resourceNamed(ticketsTemplate, 'AWS::DynamoDB::Table', 'Conversations');
    const [secretId] = resourceNamed(ticketsTemplate, 'AWS::SecretsManager::Secret', 'TenantSecret');
    expect(actionsOn(statements, queueId)).toContain('sqs:SendMessage');
    expect(actionsOn(statements, tableId)).toContain('dynamodb:Query');
    // The lease that keeps two runs from overlapping: a conditional put to take it, a delete to give it back.
    expect(actionsOn(statements, tableId)).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:DeleteItem']));
    expect(actionsOn(statements, secretId)).toContain('secretsmanager:GetSecretValue');
    expect(functionNamed(ticketsTemplate, 'Poller')[1].Properties!.Environment.Variables).toMatchObject({
      [Env.outboundQueueUrl]: { Ref: queueId },
      [Env.tableName]: { Ref: tableId },
      [Env.fourbiz]: JSON.stringify(tickets.fourbiz),
    });
  });

  it('the sender consumes the outbound queue with per-message failures and may hold messages back', () => {
    const [senderId, sender] = functionNamed(ticketsTemplate, 'Sender');
    const [queueId] = resourceNamed(ticketsTemplate, 'AWS::SQS::Queue', 'OutboundQueue');
    ticketsTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: senderId },
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(actionsOn(statementsOf(ticketsTemplate, 'Sender'), queueId)).toEqual(
      expect.arrayContaining(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']),
    );
    expect(sender.Properties!.Timeout).toBe(Math.floor(tickets.outbound.visibilityTimeoutSeconds / 6));
    expect(sender.Properties!.Environment.Variables[Env.outboundQueueUrl]).toEqual({ Ref: queueId });
  });

  it('grants each tickets function only the table actions it uses, and the sender its outbound DLQ', () => {
    const [tableId] = resourceNamed(ticketsTemplate, 'AWS::DynamoDB::Table', 'Conversations');
    const [dlqId] = resourceNamed(ticketsTemplate, 'AWS::SQS::Queue', 'OutboundDlq');
    // DeleteItem: releasing the lease of an OAuth 2.0 token refresh.
    expect(actionsOn(statementsOf(ticketsTemplate, 'Sender'), tableId)).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // X rotates OAuth 2.0 refresh tokens: the sender writes the refreshed ones back to the secret, nothing else of it.
    const [secretId] = resourceNamed(ticketsTemplate, 'AWS::SecretsManager::Secret', 'TenantSecret');
    expect(actionsOn(statementsOf(ticketsTemplate, 'Sender'), secretId)).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']);
    expect(actionsOn(statementsOf(ticketsTemplate, 'Poller'), tableId)).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    // The dispatcher downloads DM media: with OAuth 2.0 it refreshes the token like the sender (lease, tokens written back).
    expect(actionsOn(statementsOf(ticketsTemplate, 'Dispatcher'), tableId)).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(actionsOn(statementsOf(ticketsTemplate, 'Dispatcher'), secretId)).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']);
    expect(actionsOn(statementsOf(ticketsTemplate, 'Sender'), dlqId)).toContain('sqs:SendMessage');
    expect(functionNamed(ticketsTemplate, 'Sender')[1].Properties!.Environment.Variables[Env.outboundDlqUrl]).toEqual({ Ref: dlqId });
  });

  it('refuses to synthesise a tenant whose time budget cannot finish a DM', () => {
    expect(() => tenantWith({ fourbiz: { ...tickets.fourbiz, timeoutMs: 12_000 } })).toThrow(/fourbiz\.timeoutMs.*inbound\.visibilityTimeoutSeconds/);
  });
});

describe('stack outputs', () => {
  it('tell the operator the webhook URL, secret, queues, table, alarm topic and dashboard', () => {
    const relayOutputs = Object.keys(relayTemplate.toJSON().Outputs).sort();
    expect(relayOutputs).toEqual(['AlarmTopicArn', 'ConsumerSecretArn', 'DashboardUrl', 'InboundDlqUrl', 'InboundQueueUrl', 'SecretArn', 'TableName', 'WebhookUrl']);
    const ticketsOutputs = Object.keys(ticketsTemplate.toJSON().Outputs).sort();
    expect(ticketsOutputs).toEqual([...relayOutputs, 'OutboundDlqUrl', 'OutboundQueueUrl'].sort());
  });

  it('the webhook URL is the default stage URL + webhooks/twitter; the dashboard URL opens the tenant dashboard', () => {
    const outputs = relayTemplate.toJSON().Outputs;
    const webhookUrl = JSON.stringify(outputs.WebhookUrl.Value);
    expect(webhookUrl).toMatch(/^\{"Fn::Join":\["",\["https:\/\/",\{"Ref":"WebhookApi\w+"\},".execute-api.sa-east-1."/);
    expect(webhookUrl).toMatch(/\/webhooks\/twitter"\]\]\}$/);
    expect(JSON.stringify(outputs.DashboardUrl.Value)).toContain('#dashboards:name=4biz-dm-example-sa-east-1"');
    const [secretId] = resourceNamed(relayTemplate, 'AWS::SecretsManager::Secret', 'TenantSecret');
    expect(outputs.SecretArn.Value).toEqual({ Ref: secretId });
  });
});
