import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { resourceNames } from '../infra/resource-names';
import { loadTenantConfig } from '../infra/tenant-config';
import { countMessages, tenantQueues, type QueueKind } from './dlq-commands';
import { runCli } from './run-cli';

/**
 * `npm run destroy -- --tenant NAME`: `cdk destroy` that refuses to delete queues still holding
 * messages (CloudFormation deletes the queues and the DMs in them). Export them first with
 * `npm run dlq -- export`, or wait for the queues to drain.
 */
const usage = `Usage: npm run destroy -- --tenant NAME

Deletes the tenant's stack (npx cdk destroy) only when its queues and DLQs are empty; otherwise
lists what is waiting and how to keep it (npm run dlq -- export). See docs/deploy.md, "Removing a tenant".`;

export type Print = (line: string) => void;

/** Runs `npx cdk destroy`; returns its exit code. */
export type DestroyRunner = (tenant: string, region: string) => number;

const cdkDestroy: DestroyRunner = (tenant, region) =>
  spawnSync('npx', ['cdk', 'destroy', '--no-notices', '-c', `tenant=${tenant}`], {
    stdio: 'inherit',
    env: { ...process.env, AWS_REGION: region, CDK_DISABLE_CLI_TELEMETRY: 'true' },
  }).status ?? 1;

export interface DestroyOptions {
  sqs?: SQSClient;
  runDestroy?: DestroyRunner;
  /** Where tenants/NAME.json lives (tests). */
  tenantsDir?: string;
}

export async function main(argv: string[], print: Print = console.log, opts: DestroyOptions = {}): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { tenant: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    print(`${(err as Error).message}\n\n${usage}`);
    return 1;
  }
  if (values.help || !values.tenant) {
    print(usage);
    return values.help ? 0 : 1;
  }
  const tenant = loadTenantConfig(values.tenant, opts.tenantsDir);
  const client = opts.sqs ?? new SQSClient({ region: tenant.region, useQueueUrlAsEndpoint: false });
  const kinds: QueueKind[] = tenant.fourbiz.mode === 'tickets' ? ['inbound', 'outbound'] : ['inbound'];
  const waiting: string[] = [];
  for (const kind of kinds) {
    const pair = await tenantQueues(client, tenant.name, kind);
    for (const [side, queue] of [['queue', pair.queue], ['dlq', pair.dlq]] as const) {
      const { visible, inFlight } = await countMessages(client, queue.url);
      if (visible + inFlight === 0) continue;
      print(`${queue.name}: ${visible} waiting, ${inFlight} in flight`);
      waiting.push(`npm run dlq -- export --tenant ${tenant.name} --queue ${kind} --from ${side} --file ${tenant.name}-${kind}-${side}.jsonl`);
    }
  }
  if (waiting.length > 0) {
    print('Refusing to destroy: deleting the stack deletes these queues and the messages in them.');
    print('Keep them first (a file per queue; import them after a redeploy with npm run dlq -- import), or wait for the queues to drain:');
    for (const line of waiting) print(`  ${line}`);
    return 1;
  }
  print(`Queues of ${resourceNames(tenant.name).stack} are empty: running cdk destroy.`);
  const code = (opts.runDestroy ?? cdkDestroy)(tenant.name, tenant.region);
  if (code === 0) {
    print(`Kept: the conversation table ${resourceNames(tenant.name).table} and the log groups. The secret ${resourceNames(tenant.name).secret} was deleted without a recovery window.`);
    print('Before deploying this tenant again: wait 60 s (SQS reuses a queue name only after that) and read docs/deploy.md, "Deploying again".');
  }
  return code;
}

if (require.main === module) runCli('destroy', main);
