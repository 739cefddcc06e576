import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { resourceNames } from '../infra/resource-names';
import { countMessages, exportMessages, importMessages, redrive, REDRIVE_ORDER_NOTE, tenantQueues, type QueueKind } from './dlq-commands';
import { runCli } from './run-cli';

/** `npm run dlq -- <count|redrive|export|import> --tenant NAME [--queue inbound|outbound] …`. */
const usage = `Usage: npm run dlq -- <count|redrive> --tenant NAME [--queue inbound|outbound]
       npm run dlq -- export --tenant NAME [--queue inbound|outbound] [--from dlq|queue] --file FILE
       npm run dlq -- import --tenant NAME [--queue inbound|outbound] [--to queue|dlq] --file FILE

  count     messages waiting in the queue and in its DLQ
  redrive   move every message in the DLQ back to its queue (receive, send, delete; order kept).
            ${REDRIVE_ORDER_NOTE}
  export    move every message of the DLQ (or the queue) into FILE (JSON Lines, created, never
            overwritten; it holds DM texts), e.g. before cdk destroy: each batch is on disk before
            it leaves the queue
  import    send the messages of FILE to the queue (or the DLQ), e.g. after a redeploy

Queues: ${resourceNames('NAME').inboundQueue} and ${resourceNames('NAME').inboundDlq} (--queue inbound, the default),
or the outbound pair (--queue outbound). AWS credentials and region as for the AWS CLI; for a local
SQS emulator set AWS_ENDPOINT_URL_SQS.`;

/** The configured endpoint (AWS_ENDPOINT_URL_SQS locally) for every call, whatever host a queue URL names. */
const defaultClient = () => new SQSClient({ useQueueUrlAsEndpoint: false });

export async function main(argv: string[], print: (line: string) => void = console.log, sqs = defaultClient()): Promise<number> {
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
    !['count', 'redrive', 'export', 'import'].includes(command ?? '') ||
    positionals.length > 1 ||
    !values.tenant ||
    !['inbound', 'outbound'].includes(kind) ||
    (withFile && (!values.file || !['queue', 'dlq'].includes(side ?? '')))
  ) {
    print(usage);
    return 1;
  }
  const pair = await tenantQueues(sqs, values.tenant, kind);
  if (withFile) {
    const queue = side === 'dlq' ? pair.dlq : pair.queue;
    if (command === 'export') {
      const n = await exportMessages(sqs, queue, values.file!, print);
      print(`done: ${n} message(s) of ${queue.name} are in ${values.file} (and no longer in the queue)`);
    } else {
      const n = await importMessages(sqs, queue, values.file!, print);
      print(`done: ${n} message(s) from ${values.file} sent to ${queue.name}`);
    }
    return 0;
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

if (require.main === module) runCli('dlq', main);
