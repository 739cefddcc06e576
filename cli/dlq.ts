import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { dynamoConversationStore } from '../functions/adapters/conversation-store';
import type { ConversationStore } from '../functions/core/ports';
import { resourceNames } from '../infra/resource-names';
import { loadTenantConfig } from '../infra/tenant-config';
import { countMessages, exportMessages, redrive, REDRIVE_ORDER_NOTE, tenantQueues, type QueueKind, type QueuePair, type QueueRef } from './dlq-commands';
import { importMessages } from './dlq-import';
import { listParked, requeueParked } from './dlq-parked';
import { runCli } from './run-cli';

/** `npm run dlq -- <count|redrive|export|import|parked> --tenant NAME [--queue inbound|outbound] …`. */
const usage = `Usage: npm run dlq -- <count|redrive> --tenant NAME [--queue inbound|outbound]
       npm run dlq -- export --tenant NAME [--queue inbound|outbound] [--from dlq|queue] --file FILE
       npm run dlq -- import --tenant NAME [--queue inbound|outbound] [--to queue|dlq] --file FILE [--dry-run]
       npm run dlq -- parked --tenant NAME [--requeue]

  count     messages waiting in the queue and in its DLQ
  redrive   move every message in the DLQ back to its queue (receive, send, delete; order kept).
            ${REDRIVE_ORDER_NOTE}
  export    move every message of the DLQ (or the queue) into FILE (JSON Lines, created, never
            overwritten; it holds DM texts), e.g. before cdk destroy: each batch is on disk before
            it leaves the queue
  import    send the messages of FILE to the queue (or the DLQ), e.g. after a redeploy. Each line
            is checked first: exported from this queue or its DLQ, a body the queue's consumer
            reads, bound to the tenant's X account (tenants/NAME.json; an outbound message must
            be a reply in one of the tenant's conversations). Lines that fail are refused (line
            number and reason, never the DM text), the rest are sent; exit code 1 if any was
            refused. --dry-run checks and reports, sends nothing.
  parked    the DMs the webhook kept in the tenant's table because the inbound queue refused them
            (alarm InboundParked): event id, age, sender id, never the text. --requeue sends each
            to the inbound queue (oldest first, same group and dedup ids) and deletes it from the
            table once the queue took it.

Queues: ${resourceNames('NAME').inboundQueue} and ${resourceNames('NAME').inboundDlq} (--queue inbound, the default),
or the outbound pair (--queue outbound). AWS credentials and region as for the AWS CLI; for a local
SQS emulator set AWS_ENDPOINT_URL_SQS.`;

/** The configured endpoint (AWS_ENDPOINT_URL_SQS locally) for every call, whatever host a queue URL names. */
const defaultClient = () => new SQSClient({ useQueueUrlAsEndpoint: false });

export interface DlqOptions {
  tenantsDir?: string;
  /** The tenant's conversation table (import to the outbound queue); default: DynamoDB in the tenant's region. */
  dynamo?: DynamoDBDocumentClient;
}

export async function main(argv: string[], print: (line: string) => void = console.log, sqs = defaultClient(), opts: DlqOptions = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        tenant: { type: 'string' },
        queue: { type: 'string', default: 'inbound' },
        from: { type: 'string', default: 'dlq' },
        to: { type: 'string', default: 'queue' },
        file: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        requeue: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    print(`${(err as Error).message}\n\n${usage}`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    print(usage);
    return 0;
  }
  const command = positionals[0];
  const kind = values.queue as QueueKind;
  const withFile = command === 'export' || command === 'import';
  const side = command === 'export' ? values.from : values.to;
  if (
    !['count', 'redrive', 'export', 'import', 'parked'].includes(command ?? '') ||
    positionals.length > 1 ||
    !values.tenant ||
    !['inbound', 'outbound'].includes(kind) ||
    (withFile && (!values.file || !['queue', 'dlq'].includes(side ?? '')))
  ) {
    print(usage);
    return 1;
  }
  if (command === 'parked') return runParked(values.tenant, values.requeue === true, sqs, print, opts);
  const pair = await tenantQueues(sqs, values.tenant, kind);
  if (withFile) {
    const queue = side === 'dlq' ? pair.dlq : pair.queue;
    if (command === 'export') {
      const n = await exportMessages(sqs, queue, values.file!, print);
      print(`done: ${n} message(s) of ${queue.name} are in ${values.file} (and no longer in the queue)`);
      return 0;
    }
    return runImport({ tenant: values.tenant, kind, pair, to: queue, file: values.file!, dryRun: values['dry-run'] === true }, sqs, print, opts);
  }
  if (command === 'count') {
    const [queue, dlq] = await Promise.all([countMessages(sqs, pair.queue.url), countMessages(sqs, pair.dlq.url)]);
    print(`${pair.queue.name}: ${queue.visible} waiting, ${queue.inFlight} in flight`);
    print(`${pair.dlq.name}: ${dlq.visible} waiting, ${dlq.inFlight} in flight`);
    return 0;
  }
  const before = await countMessages(sqs, pair.dlq.url);
  if (before.visible === 0) {
    print(`${pair.dlq.name} is empty (${before.inFlight} in flight): nothing to redrive`);
    return 0;
  }
  print(`redriving ${before.visible} message(s): ${pair.dlq.name} → ${pair.queue.name}`);
  print(REDRIVE_ORDER_NOTE);
  const result = await redrive(sqs, pair, print);
  print(`done (${result.method}): ${result.moved} moved, status ${result.status}`);
  return 0;
}

async function runParked(tenantName: string, requeue: boolean, sqs: SQSClient, print: (line: string) => void, opts: DlqOptions): Promise<number> {
  const tenant = loadTenantConfig(tenantName, opts.tenantsDir);
  const doc = opts.dynamo ?? DynamoDBDocumentClient.from(new DynamoDBClient({ region: tenant.region }));
  const table = resourceNames(tenant.name).table;
  if (!requeue) {
    await listParked(doc, table, print);
    return 0;
  }
  const { queue } = await tenantQueues(sqs, tenant.name, 'inbound');
  const n = await requeueParked(doc, table, sqs, queue.url, print);
  print(`done: ${n} parked message(s) sent to ${queue.name}`);
  return 0;
}

async function runImport(
  args: { tenant: string; kind: QueueKind; pair: QueuePair; to: QueueRef; file: string; dryRun: boolean },
  sqs: SQSClient,
  print: (line: string) => void,
  opts: DlqOptions,
): Promise<number> {
  const tenant = loadTenantConfig(args.tenant, opts.tenantsDir);
  // Read only for outbound messages: an inbound import needs no table access.
  let conversations: ConversationStore | undefined;
  const conversation = (xUserId: string) =>
    (conversations ??= dynamoConversationStore(opts.dynamo ?? DynamoDBDocumentClient.from(new DynamoDBClient({ region: tenant.region })), resourceNames(tenant.name).table)).get(xUserId);
  const report = await importMessages(
    sqs,
    { kind: args.kind, pair: args.pair, to: args.to, accountId: tenant.xAccountId, conversation },
    args.file,
    print,
    { dryRun: args.dryRun },
  );
  print(args.dryRun ? `dry run: nothing sent to ${args.to.name}` : `done: ${report.sent} message(s) from ${args.file} sent to ${args.to.name}`);
  return report.refused.length > 0 ? 1 : 0;
}

if (require.main === module) runCli('dlq', main);
