import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { startFauxqs } from '../local/emulators';
import { measureBundles } from './bundles';
import { measureDmPoller } from './dm-poller';
import { measureEndToEnd } from './end-to-end';
import { measureWebhookLatency } from './webhook-latency';
import { measureXSpend } from './x-spend';
import { measureXChatColdStart, printXChatColdStart } from './xchat';
import { measurePollCycle, printPollCycle } from './poll-cycle';
import { xPrices } from '../simulators/x/billing';

/** `npm run bench`: measures, prints a table per benchmark, and writes bench/results.json. */
// Log lines and EMF output would measure this terminal, not the handler: both are off here.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
// Cold init: at most 1.2 times the floor (the SDK clients alone), a ratio that holds on any machine.
const targets = { webhookP99Ms: 20, bundleKb: 150, coldInitOverFloor: 1.2, e2eP50Ms: 50 };

/**
 * `npm run bench -- <section>`: that section alone. A section with a key merges its figures into
 * bench/results.json; xchat's are written by the full run only.
 */
const sections: Record<string, () => Promise<[key: string | undefined, figures: unknown]>> = {
  xchat: async () => {
    printXChatColdStart(await measureXChatColdStart());
    return [undefined, undefined];
  },
  'poll-cycle': async () => {
    const pollCycle = await measurePollCycle();
    printPollCycle(pollCycle);
    return ['pollCycle', pollCycle];
  },
};

async function runSection(name: string): Promise<void> {
  const section = sections[name];
  if (!section) throw new Error(`no bench section "${name}": ${Object.keys(sections).join(', ')}, or none for all`);
  const [key, figures] = await section();
  if (key === undefined) return;
  const file = join(__dirname, 'results.json');
  const results = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(file, `${JSON.stringify({ ...results, [key]: figures }, null, 2)}\n`);
  console.log(`written: bench/results.json (${key} only)`);
}

async function main(): Promise<void> {
  if (process.argv[2]) return runSection(process.argv[2]);
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`);

  const fauxqs = await startFauxqs();
  let webhook;
  let dmPoller;
  try {
    webhook = await measureWebhookLatency(fauxqs.endpoint, 1000);
    dmPoller = await measureDmPoller(fauxqs.endpoint);
  } finally {
    await fauxqs.stop();
  }
  console.log(`\nwebhook handler, ${webhook.deliveries} deliveries, in-process, real SQS client → fauxqs (ms)`);
  console.table({ handler: webhook.handlerMs, 'floor (HMAC + JSON.parse)': webhook.floorMs });

  console.log(`\ndm-poller (polling mode), in-process against the X simulator, real SQS client → fauxqs (ms); ${dmPoller.dmsQueued} DMs queued in runs of 100 new DMs (${dmPoller.pagesPerRun} pages a run)`);
  console.table({
    'per page of 100 (lookup + convert + enqueue)': dmPoller.perPageMs,
    'idle run (one lookup of 5 events)': dmPoller.idleRunMs,
    'lookup only (100 events)': dmPoller.lookupOnlyMs,
    'convert a page of 100': dmPoller.convertPageOf100Ms,
    'enqueue 100 DMs': dmPoller.enqueue100Ms,
  });

  const bundles = await measureBundles();
  console.log('\nbundles (CDK bundling settings: minified, CJS, node24, AWS SDK bundled)');
  console.table(
    Object.fromEntries(
      bundles.map((b) => [
        b.name,
        {
          KB: b.kb,
          'cold init ms (median of 5)': b.coldInitMs,
          'floor: SDK clients only': b.floor.clients.map((c) => c.replace('@aws-sdk/', '')).join(' '),
          'floor KB': b.floor.kb,
          'floor cold init ms': b.floor.coldInitMs,
          'ratio (target ≤ 1.2)': b.ratio,
        },
      ]),
    ),
  );

  const xchat = await measureXChatColdStart();
  printXChatColdStart(xchat);

  const endToEnd = await measureEndToEnd({ dms: 1000, senders: 200 });
  console.log(`\nlocal end to end: ${endToEnd.dms} DMs from ${endToEnd.senders} senders (+${endToEnd.duplicatesSent} sent twice), signed POST → 4biz simulator`);
  console.table({
    'idle latency ms (50 DMs one at a time)': { ...endToEnd.idleLatencyMs },
    'latency ms under the burst': { ...endToEnd.latencyMs },
    outcome: { delivered: endToEnd.delivered, lost: endToEnd.lost, duplicated: endToEnd.duplicated, 'order violations': endToEnd.orderViolations, 'DMs/s': endToEnd.throughputPerSecond },
  });

  const xSpend = await measureXSpend(1000);
  // AWS per 1,000 DMs from README's "Cost per million DMs" (relay mode, list prices): $8.40 per
  // million with webhooks; polling saves API Gateway and the webhook Lambda ($1.27 per million).
  const aws = { webhook: 0.0084, polling: 0.0071 };
  console.log(`\nX spend (X's pay-per-use: DM event read $${xPrices.dmEventRead} once per event per UTC day, DM sent $${xPrices.dmSent}, X Activity API dm.received $${xPrices.activityDelivery}), measured by the X simulator's meter over the bridge's own calls, US$ per 1,000 DMs`);
  console.table({
    'webhook, X Activity API': { 'X inbound': xSpend.inboundPer1000.xaaWebhook, 'X replies (1 per DM)': xSpend.repliesPer1000, AWS: aws.webhook },
    'webhook, Account Activity API': { 'X inbound': xSpend.inboundPer1000.aaaWebhook, 'X replies (1 per DM)': xSpend.repliesPer1000, AWS: aws.webhook },
    [`polling every 60 s (${xSpend.lookups.busyDay} lookups a day)`]: { 'X inbound': xSpend.inboundPer1000.polling, 'X replies (1 per DM)': xSpend.repliesPer1000, AWS: aws.polling },
  });
  console.log(`polling, a day without DMs: X $${xSpend.pollingIdleDay} (${xSpend.lookups.idleDay} lookups; re-reads of the same events that UTC day are not billed again), $${xSpend.pollingIdleMonth} a month`);

  const pollCycle = await measurePollCycle();
  printPollCycle(pollCycle);

  const verdicts = {
    webhookP99: webhook.handlerMs.p99 < targets.webhookP99Ms,
    bundles: bundles.every((b) => b.kb < targets.bundleKb),
    coldInit: bundles.every((b) => b.ratio <= targets.coldInitOverFloor),
    e2eIdleP50: endToEnd.idleLatencyMs.p50 < targets.e2eP50Ms,
    e2eBurstP50: endToEnd.latencyMs.p50 < targets.e2eP50Ms,
    e2eExactlyOnceInOrder: endToEnd.lost === 0 && endToEnd.duplicated === 0 && endToEnd.orderViolations === 0,
  };
  console.log('\nagainst the targets:', verdicts);
  writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify({ machine, targets, webhook, dmPoller, bundles, xchat, endToEnd, xSpend, pollCycle, verdicts }, null, 2)}\n`);
  console.log('written: bench/results.json');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
