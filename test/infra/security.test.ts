import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { Stack } from 'aws-cdk-lib';
import vectors from '../fixtures/vectors.json';
import { buildStack, exampleRelay, exampleTickets, tenantWith } from './build-stack';

/** Credentials as an operator's shell may hold them while running `cdk synth` (the local runner reads these). */
const credentials = {
  X_CONSUMER_KEY: 'xvz1evFS4wEEPTGEFPHBog',
  X_CONSUMER_SECRET: vectors.consumerSecret,
  X_ACCESS_TOKEN: '1400000000000000001-Q7bF2kLmN9pRsT4uVwXyZ0aB3cD5eF',
  X_ACCESS_TOKEN_SECRET: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
  X_BEARER_TOKEN: 'AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F',
  FOURBIZ_PASSWORD: 'S3nh@-d0-integrador-4biz',
};

let built: { name: string; stack: Stack; template: Template }[];

beforeAll(() => {
  const saved = { ...process.env };
  Object.assign(process.env, credentials);
  try {
    built = [
      { name: 'relay', ...buildStack(exampleRelay()) },
      { name: 'tickets', ...buildStack(exampleTickets()) },
      { name: 'relay without alarm e-mails', ...buildStack(tenantWith()) },
    ];
  } finally {
    process.env = saved;
  }
});

/** Every string value in the template (keys excluded), recursively. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

describe('no credential in the template', () => {
  it('has no SecretString anywhere', () => {
    for (const { template } of built) expect(JSON.stringify(template.toJSON())).not.toContain('SecretString');
  });

  it('contains none of the credentials present in the environment at synth time', () => {
    for (const { template } of built) {
      const json = JSON.stringify(template.toJSON());
      for (const value of Object.values(credentials)) expect(json).not.toContain(value);
    }
  });

  it('has no string that looks like a key or token (long run of mixed-case letters and digits)', () => {
    for (const { template } of built) {
      const json = template.toJSON();
      const logicalIds = new Set([...Object.keys(json.Resources), ...Object.keys(json.Outputs ?? {}), ...Object.keys(json.Parameters ?? {})]);
      const suspicious = stringsOf(json)
        .flatMap((s) => s.match(/[A-Za-z0-9%+/=_-]{20,}/g) ?? [])
        .filter((s) => !logicalIds.has(s) && !logicalIds.has(s.replace(/\.\w+$/, '')))
        .filter((s) => !/^[0-9a-f]{64}(\.zip)?$/.test(s)) // asset hashes
        .filter((s) => /[a-z]/.test(s) && /[A-Z]/.test(s) && /\d/.test(s));
      expect(suspicious).toEqual([]);
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no errors and no warnings', () => {
    for (const { stack } of built) {
      const annotations = Annotations.fromStack(stack);
      expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
      expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    }
  });

  it('every suppression names one rule, says why, and wildcard permissions are suppressed only for the exact resource', () => {
    for (const { template } of built) {
      const resources = Object.values(template.toJSON().Resources as Record<string, { Type: string; Metadata?: { cdk_nag?: { rules_to_suppress?: unknown[] } }; Properties?: { PolicyDocument?: { Statement: { Action: string | string[] }[] } } }>);
      const suppressions = resources.flatMap(
        (r) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []) as { id: string; reason: string; applies_to?: string[] }[],
      );
      // The index wildcard (IAM5) is granted, and suppressed, only where a function queries the index (tickets mode's poller).
      const queries = resources.some((r) => r.Properties?.PolicyDocument?.Statement.some((st) => [st.Action].flat().includes('dynamodb:Query')));
      expect(suppressions.length).toBeGreaterThan(0);
      for (const { id, reason, applies_to } of suppressions) {
        expect(id).toMatch(/^AwsSolutions-[A-Z]+\d+$/);
        expect(reason.split(' ').length).toBeGreaterThanOrEqual(8);
        // The fix for IAM4 (AWS managed policies) is an own role per function, not a suppression.
        expect(id).not.toBe('AwsSolutions-IAM4');
        if (id === 'AwsSolutions-IAM5') expect(applies_to).toEqual([expect.stringMatching(/^Resource::<Conversations\w+\.Arn>\/index\/\*$/)]);
      }
      expect(new Set(suppressions.map((s) => s.id))).toEqual(
        // SQS3: the queues have no redrive policy on purpose (docs/deploy.md, "When 4biz is down").
        new Set(['AwsSolutions-SMG4', 'AwsSolutions-APIG4', 'AwsSolutions-L1', 'AwsSolutions-SQS3', ...(queries ? ['AwsSolutions-IAM5'] : [])]),
      );
    }
  });
});
