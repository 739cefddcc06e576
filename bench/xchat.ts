import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signingKeyEntry, XChatPerson } from '../simulators/x/chat-client';
import { functionsDir } from '../infra/constructs/bridge-function';
import { bundle, projectNodeModules } from './bundles';
import { percentile, round } from './stats';

/**
 * Cold start of the functions that load chat-xdk (dispatcher, sender with `x.xchat`), with and
 * without the XChat path. Each sample is a fresh Node process that loads the function's deployed
 * bundle (its cold init, as in bench/bundles.ts) and records whether chat-xdk was loaded by then
 * (lazy: it must not be); then it meets its first XChat message through the bridge's own code
 * (functions/adapters/xchat-crypto.ts, bundled with the same settings): chat-xdk's WASM engine
 * loaded and started with the company's key blob, then the key change and the message decrypted
 * and verified with real keys (made here by the simulator's chat-xdk clients).
 */

export interface XChatColdStart {
  name: string;
  /** Median cold init of the bundle (no XChat message yet). */
  coldInitMs: number;
  /** chat-xdk in the process after the bundle loaded (lazy loading: false). */
  chatXdkLoadedAtInit: boolean;
  /** First XChat message: chat-xdk engine module + WASM start + key blob import (median). */
  engineStartMs: number;
  /** First XChat message: its key change and the message decrypted and verified (median). */
  firstMessageMs: number;
  /** Cold init plus the first XChat message's extra (medians added). */
  totalMs: number;
  /** Resident memory after the bundle loaded, and after the first XChat message (median, MiB). */
  rssMiB: { init: number; afterXChat: number };
}

const functions = ['dispatcher', 'sender'] as const;

/** What the child process runs: the bridge's XChat crypto adapter, nothing else of the function. */
const probeSource = `
import { createXChatCrypto } from './functions/adapters/xchat-crypto';
export async function firstMessage(input: any) {
  const t0 = performance.now();
  const crypto = await createXChatCrypto(() => input.identity)();
  const t1 = performance.now();
  const keys = crypto.conversationKeys([input.keyChangeEvent], input.signingKeys);
  const event = crypto.decrypt(input.encodedEvent, keys.keys, input.signingKeys);
  const t2 = performance.now();
  if (!event.verified || event.text !== input.text) throw new Error('the bench message did not open');
  return { engineStartMs: t1 - t0, firstMessageMs: t2 - t1 };
}
`;

/** A company, a person, the person's key change and first message (real chat-xdk cryptography). */
function chatFixture(dir: string): string {
  const company = new XChatPerson('1400000000000000001', '1765000000000');
  const person = new XChatPerson('2900000000000000088', '1765382634817');
  const { conversationId, keyChangeEvent } = person.changeConversationKey({ userId: company.userId, publicKey: company.publicKey });
  const text = 'Olá, minha fatura veio errada';
  const sent = person.write(conversationId, text);
  const file = join(dir, 'chat.json');
  writeFileSync(
    file,
    JSON.stringify({
      identity: { userId: company.userId, keyBlob: company.keyBlob(), publicKeyVersion: company.publicKey.public_key_version },
      keyChangeEvent,
      encodedEvent: sent.encodedEvent,
      signingKeys: [signingKeyEntry(person.userId, person.publicKey)],
      text,
    }),
  );
  return file;
}

interface Sample {
  initMs: number;
  loadedAtInit: boolean;
  engineStartMs: number;
  firstMessageMs: number;
  rssInit: number;
  rssAfter: number;
}

function sample(functionBundle: string, probeBundle: string, fixture: string): Sample {
  const script = `
    const t = performance.now();
    require(${JSON.stringify(functionBundle)});
    const initMs = performance.now() - t;
    const loadedAtInit = Object.keys(require.cache).some((k) => k.includes('chat-xdk'));
    const rssInit = process.memoryUsage().rss;
    const input = JSON.parse(require('node:fs').readFileSync(${JSON.stringify(fixture)}, 'utf8'));
    require(${JSON.stringify(probeBundle)}).firstMessage(input).then((r) => {
      process.stdout.write(JSON.stringify({ initMs, loadedAtInit, rssInit, rssAfter: process.memoryUsage().rss, ...r }));
    });`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_PATH: projectNodeModules } }).toString()) as Sample;
}

export async function measureXChatColdStart(runs = 5): Promise<XChatColdStart[]> {
  const dir = join(__dirname, '.tmp', 'xchat');
  mkdirSync(dir, { recursive: true });
  const fixture = chatFixture(dir);
  const probe = await bundle('xchat-probe', 'xchat', { source: probeSource });
  const results: XChatColdStart[] = [];
  for (const name of functions) {
    const deployed = await bundle(name, 'deployed', { file: join(functionsDir, name, 'handler.ts') });
    const samples = Array.from({ length: runs }, () => sample(deployed.outfile, probe.outfile, fixture));
    const median = (pick: (s: Sample) => number) => round(percentile(samples.map(pick), 50), 1);
    const mib = (bytes: number) => round(bytes / 2 ** 20, 0);
    const coldInitMs = median((s) => s.initMs);
    const engineStartMs = median((s) => s.engineStartMs);
    const firstMessageMs = median((s) => s.firstMessageMs);
    results.push({
      name,
      coldInitMs,
      chatXdkLoadedAtInit: samples.some((s) => s.loadedAtInit),
      engineStartMs,
      firstMessageMs,
      totalMs: round(coldInitMs + engineStartMs + firstMessageMs, 1),
      rssMiB: { init: mib(percentile(samples.map((s) => s.rssInit), 50)), afterXChat: mib(percentile(samples.map((s) => s.rssAfter), 50)) },
    });
  }
  return results;
}

/** The section as `npm run bench` prints it. */
export function printXChatColdStart(results: XChatColdStart[], runs = 5): void {
  console.log(`\nXChat cold start (functions that load chat-xdk, bundled as deployed; fresh Node process each, median of ${runs}): a tenant without XChat pays only the cold init; the first XChat message adds the engine start and its own decryption`);
  console.table(
    Object.fromEntries(
      results.map((r) => [
        r.name,
        {
          'cold init ms (no XChat)': r.coldInitMs,
          'chat-xdk loaded at init': r.chatXdkLoadedAtInit ? 'yes' : 'no',
          '1st XChat msg: engine start ms (WASM + key import)': r.engineStartMs,
          '1st XChat msg: decrypt + verify ms': r.firstMessageMs,
          'cold init + 1st XChat msg ms': r.totalMs,
          'RSS MiB init → after': `${r.rssMiB.init} → ${r.rssMiB.afterXChat}`,
        },
      ]),
    ),
  );
}
