import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionEnvironment, functionNames, parseFunctionConfig, ticketsSettingsSchema } from '../../functions/config';
import { loadTenantConfig, tenantConfigSchema } from '../../infra/tenant-config';

describe('function config', () => {
  const base = { TENANT: 'acme', SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:x' };

  it('parses the variables the stack sets for a function', () => {
    const config = parseFunctionConfig('dispatcher', {
      ...base,
      TABLE_NAME: 'conversations',
      INBOUND_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q.fifo',
      INBOUND_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/1/q-dlq.fifo',
      FOURBIZ_SETTINGS: JSON.stringify({ mode: 'relay', callbackUrl: 'https://4biz.example/cb' }),
      CONVERSATION_IDLE_MINUTES: '30',
    });
    expect(config).toMatchObject({
      tenant: 'acme',
      inboundQueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q.fifo',
      fourbiz: { mode: 'relay', callbackUrl: 'https://4biz.example/cb', timeoutMs: 5000 },
      conversationIdleMinutes: 30,
      // Defaults where the stack sets nothing.
      retryBaseSeconds: 2,
      retryMaxSeconds: 900,
      pollBackfillMinutes: 0,
    });
  });

  it('names the variable that is wrong, and the one a function cannot run without', () => {
    expect(() => parseFunctionConfig('webhook-health', { TENANT: 'acme', TABLE_NAME: 't', WEBHOOK_URL: 'https://api.example/webhooks/twitter' })).toThrow(
      'SECRET_ARN: SECRET_ARN or SECRETS_FILE is required',
    );
    // The internet-facing functions get the consumer secret alone: the tenant secret's ARN is not theirs to read.
    expect(() => parseFunctionConfig('crc', { TENANT: 'acme' })).toThrow('CONSUMER_SECRET_ARN or SECRETS_FILE is required');
    expect(() => parseFunctionConfig('webhook', { ...base, TABLE_NAME: 't', INBOUND_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q.fifo', X_ACCOUNT_ID: '1' })).toThrow('CONSUMER_SECRET_ARN or SECRETS_FILE is required');
    expect(() => parseFunctionConfig('dispatcher', { ...base, FOURBIZ_SETTINGS: '{' })).toThrow('FOURBIZ_SETTINGS: not valid JSON');
    expect(() => parseFunctionConfig('webhook', { ...base, TABLE_NAME: 't', INBOUND_QUEUE_URL: 'nope', X_ACCOUNT_ID: '1' })).toThrow('INBOUND_QUEUE_URL');
    expect(() => parseFunctionConfig('webhook', { ...base, TABLE_NAME: 't', INBOUND_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q.fifo' })).toThrow(
      'invalid webhook function configuration: X_ACCOUNT_ID: Required',
    );
  });

  it('reads only its own variables: another function\'s are ignored', () => {
    const crc = parseFunctionConfig('crc', { ...base, CONSUMER_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:x/x-consumer-secret', TABLE_NAME: 'conversations' });
    expect(crc).not.toHaveProperty('tableName');
    expect(crc).not.toHaveProperty('secretArn');
  });

  it('writes exactly the variables each function parses back (one place for the stack and the local runner)', () => {
    const values = {
      tenant: 'acme',
      secretArn: base.SECRET_ARN,
      consumerSecretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:x/x-consumer-secret',
      tableName: 'conversations',
      inboundQueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/in.fifo',
      inboundDlqUrl: 'https://sqs.us-east-1.amazonaws.com/1/in-dlq.fifo',
      outboundQueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/out.fifo',
      outboundDlqUrl: 'https://sqs.us-east-1.amazonaws.com/1/out-dlq.fifo',
      fourbiz: { mode: 'relay' as const, callbackUrl: 'https://4biz.example/cb', timeoutMs: 5000 },
      xAccountId: '1400000000000000001',
      webhookUrl: 'https://api.example/webhooks/twitter',
      conversationIdleMinutes: 45,
      pollBackfillMinutes: 10,
    };
    for (const name of functionNames) {
      const config: Record<string, unknown> = parseFunctionConfig(name, functionEnvironment(name, values));
      for (const [key, value] of Object.entries(values)) if (key in config) expect([name, key, config[key]]).toEqual([name, key, value]);
    }
    expect(Object.keys(functionEnvironment('crc', values)).sort()).toEqual(['CONSUMER_SECRET_ARN', 'TENANT']);
    expect(Object.keys(functionEnvironment('webhook', values))).not.toContain('SECRET_ARN');
    expect(functionEnvironment('dispatcher', values)).toMatchObject({ FOURBIZ_SETTINGS: JSON.stringify(values.fourbiz), CONVERSATION_IDLE_MINUTES: '45' });
  });
});

describe('tenant file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenants-'));

  it('loads the shipped examples', () => {
    expect(loadTenantConfig('example').fourbiz.mode).toBe('relay');
    expect(loadTenantConfig('example-tickets').fourbiz.mode).toBe('tickets');
  });

  it('fills documented defaults', () => {
    const t = tenantConfigSchema.parse({ name: 'acme', region: 'sa-east-1', xAccountId: '1', fourbiz: { mode: 'relay', callbackUrl: 'https://x.example/cb' } });
    expect(t.inbound).toEqual({ visibilityTimeoutSeconds: 180, batchSize: 10, maxConcurrency: 10, outageWaitHours: 96 });
    expect(t.conversationIdleMinutes).toBe(60);
  });

  it('refuses a batching window, which Lambda does not support on FIFO queues', () => {
    const parsed = tenantConfigSchema.safeParse({
      name: 'acme',
      region: 'sa-east-1',
      xAccountId: '1',
      fourbiz: { mode: 'relay', callbackUrl: 'https://x.example/cb' },
      inbound: { maxBatchingWindowSeconds: 5 },
    });
    expect(parsed.success).toBe(false);
  });

  it('fails with one line naming the file when it is missing', () => {
    expect(() => loadTenantConfig('missing', dir)).toThrow(`tenant file not found: ${join(dir, 'missing.json')}`);
  });

  it('fails naming the file and the field when it is invalid', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ name: 'bad', region: 'sa-east-1', xAccountId: 'abc', fourbiz: { mode: 'relay', callbackUrl: 'nope' } }));
    let err: Error | undefined;
    try {
      loadTenantConfig('bad', dir);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toContain(join(dir, 'bad.json'));
    expect(err?.message).toContain('xAccountId');
    expect(err?.message).toContain('fourbiz.callbackUrl');
    expect(err?.message).not.toContain('\n');
  });

  it('names the new tickets fields when it meets the old ones, one line each', () => {
    const old = { mode: 'tickets', baseUrl: 'https://empresa.4biz.one/4biz', contractId: 1, activityId: 10, groupId: 5, unitId: 2, originId: 7 };
    writeFileSync(join(dir, 'old-tickets.json'), JSON.stringify({ name: 'old-tickets', region: 'sa-east-1', xAccountId: '1', fourbiz: old }));
    let err: Error | undefined;
    try {
      loadTenantConfig('old-tickets', dir);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).not.toContain('\n');
    const issues = err!.message.split('; ');
    expect(issues.find((i) => i.includes('fourbiz.activityId'))).toMatch(/serviceCode/);
    expect(issues.find((i) => i.includes('fourbiz.groupId'))).toMatch(/acronym/);
    expect(issues.find((i) => i.includes('fourbiz.unitId'))).toMatch(/no unit field/);
    expect(issues.find((i) => i.includes('fourbiz.originId'))).toMatch(/no origin field/);
    expect(issues).toHaveLength(4);
    const fixed = ticketsSettingsSchema.parse({ ...old, activityId: undefined, unitId: undefined, originId: undefined, groupId: 'N1', serviceCode: 'ATD' });
    expect(fixed).toMatchObject({ groupId: 'N1', serviceCode: 'ATD', urgency: 'M', impact: 'M', mediaMaxBytes: 5 * 1024 * 1024 });
    expect(() => ticketsSettingsSchema.parse({ ...fixed, serviceCod: 'typo' })).toThrow(/serviceCod/);
  });

  it('sends Acompanhamento and Retorno occurrences unless the tenant lists others; an empty list is refused', () => {
    const base = { mode: 'tickets', baseUrl: 'https://empresa.4biz.one/4biz' };
    expect(ticketsSettingsSchema.parse(base).customerVisibleCategories).toEqual(['Acompanhamento', 'Retorno']);
    expect(ticketsSettingsSchema.parse({ ...base, customerVisibleCategories: ['Retorno'] }).customerVisibleCategories).toEqual(['Retorno']);
    expect(() => ticketsSettingsSchema.parse({ ...base, customerVisibleCategories: [] })).toThrow();
  });

  it('rejects unknown fields (a typo must not be silently ignored)', () => {
    expect(() => tenantConfigSchema.parse({ name: 'acme', region: 'sa-east-1', xAccountId: '1', fourbiz: { mode: 'relay', callbackUrl: 'https://x.example' }, conversationIdleMinute: 5 })).toThrow();
  });
});
