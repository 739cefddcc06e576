import { fourbizSettingsSchema, Env, parseFunctionConfig } from '../../functions/config';
import { tenantConfigSchema } from '../../infra/tenant-config';

const tenant = (over: Record<string, unknown>) => ({ name: 'acme', region: 'sa-east-1', xAccountId: '1', fourbiz: { mode: 'relay', callbackUrl: 'https://4biz.example/cb' }, ...over });

/** Issue 8 §5: time budgets that cannot deadlock. */
describe('tenant time budget', () => {
  it('refuses a relay timeout that leaves the dispatcher no time to finish a DM, naming the fields', () => {
    const parsed = tenantConfigSchema.safeParse(tenant({ fourbiz: { mode: 'relay', callbackUrl: 'https://4biz.example/cb', timeoutMs: 29_000 } }));
    expect(parsed.success).toBe(false);
    const message = parsed.error!.issues.map((i) => i.message).join('\n');
    expect(message).toMatch(/fourbiz\.timeoutMs/);
    expect(message).toMatch(/inbound\.visibilityTimeoutSeconds/);
  });

  it('counts five 4biz calls per DM in tickets mode (login, status, write, media download, attachment)', () => {
    const tickets = { mode: 'tickets', baseUrl: 'https://4biz.example/4biz', contractId: 1, groupId: 'N1', timeoutMs: 10_000 };
    expect(tenantConfigSchema.safeParse(tenant({ fourbiz: tickets })).success).toBe(false);
    // 5 × 10 s + 2 s margin = 52 s: a dispatcher timeout of visibility / 6.
    expect(tenantConfigSchema.safeParse(tenant({ fourbiz: tickets, inbound: { visibilityTimeoutSeconds: 306 } })).success).toBe(false);
    expect(tenantConfigSchema.safeParse(tenant({ fourbiz: tickets, inbound: { visibilityTimeoutSeconds: 312 } })).success).toBe(true);
  });

  it('accepts the defaults', () => {
    expect(tenantConfigSchema.safeParse(tenant({})).success).toBe(true);
  });
});

/** Issue 8 §6: 4biz URLs. */
describe('4biz URLs', () => {
  const relay = (callbackUrl: string) => fourbizSettingsSchema.safeParse({ mode: 'relay', callbackUrl }).success;
  it.each(['http://4biz.example/cb', 'http://localhost.evil.example/cb', 'http://evil-localhost/cb', 'https://169.254.169.254/latest/meta-data', 'http://169.254.169.254/', 'https://[fd00:ec2::254]/', 'https://[fe80::1]/x', 'ftp://4biz.example/'])(
    'refuses %s',
    (url) => expect(relay(url)).toBe(false),
  );
  it.each(['https://empresa.4biz.one/cb', 'http://127.0.0.1:8080/cb', 'http://localhost:9/cb', 'http://sqs.us-east-1.localhost:9/cb'])('takes %s', (url) => expect(relay(url)).toBe(true));

  it('takes plain http on loopback only in local mode', () => {
    const env = {
      [Env.tenant]: 't',
      [Env.secretsFile]: '/tmp/s.json',
      [Env.tableName]: 'conversations',
      [Env.inboundQueueUrl]: 'http://127.0.0.1:9/q.fifo',
      [Env.inboundDlqUrl]: 'http://127.0.0.1:9/q-dlq.fifo',
      [Env.fourbiz]: JSON.stringify({ mode: 'relay', callbackUrl: 'http://127.0.0.1:9/cb' }),
    };
    expect(() => parseFunctionConfig('dispatcher', env)).toThrow(/local mode/);
    expect(parseFunctionConfig('dispatcher', { ...env, [Env.localMode]: 'true' }).fourbiz).toMatchObject({ callbackUrl: 'http://127.0.0.1:9/cb' });
  });

  it('never deploys a plain-http 4biz URL', () => {
    expect(tenantConfigSchema.safeParse(tenant({ fourbiz: { mode: 'relay', callbackUrl: 'http://127.0.0.1:9/cb' } })).success).toBe(false);
  });
});
