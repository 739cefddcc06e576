import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { startFauxqs } from '../local/emulators';
import { measureBundles } from './bundles';
import { measureDmPoller } from './dm-poller';
import { measureEndToEnd } from './end-to-end';
import { measureWebhookLatency } from './webhook-latency';

/** `npm run bench`: measures, prints a table per benchmark, and writes bench/results.json. */
// Log lines and EMF output would measure this terminal, not the handler: both are off here.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const targets = { webhookP99Ms: 20, bundleKb: 150, coldInitMs: 150, e2eP50Ms: 50 };

async function main(): Promise<void> {
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
          'KB, SDK external': b.sdkExternal.kb,
          'cold init ms, SDK external': b.sdkExternal.coldInitMs,
        },
      ]),
    ),
  );

  const endToEnd = await measureEndToEnd({ dms: 1000, senders: 200 });
  console.log(`\nlocal end to end: ${endToEnd.dms} DMs from ${endToEnd.senders} senders (+${endToEnd.duplicatesSent} sent twice), signed POST → 4biz simulator`);
  console.table({
    'idle latency ms (50 DMs one at a time)': { ...endToEnd.idleLatencyMs },
    'latency ms under the burst': { ...endToEnd.latencyMs },
    outcome: { delivered: endToEnd.delivered, lost: endToEnd.lost, duplicated: endToEnd.duplicated, 'order violations': endToEnd.orderViolations, 'DMs/s': endToEnd.throughputPerSecond },
  });

  const verdicts = {
    webhookP99: webhook.handlerMs.p99 < targets.webhookP99Ms,
    bundles: bundles.every((b) => b.kb < targets.bundleKb),
    coldInit: bundles.every((b) => b.coldInitMs < targets.coldInitMs),
    e2eIdleP50: endToEnd.idleLatencyMs.p50 < targets.e2eP50Ms,
    e2eBurstP50: endToEnd.latencyMs.p50 < targets.e2eP50Ms,
    e2eExactlyOnceInOrder: endToEnd.lost === 0 && endToEnd.duplicated === 0 && endToEnd.orderViolations === 0,
  };
  console.log('\nagainst the targets:', verdicts);
  writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify({ machine, targets, webhook, dmPoller, bundles, endToEnd, verdicts }, null, 2)}\n`);
  console.log('written: bench/results.json');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
