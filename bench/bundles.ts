import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions, functionsDir } from '../infra/constructs/bridge-function';
import { percentile, round } from './stats';

/**
 * Each function bundled exactly as the stack bundles it (infra/constructs/bridge-function.ts), its
 * minified size, and its cold init: the time to load the bundle in a fresh Node process, median
 * of several processes. The AWS SDK stays external as on Lambda, where the runtime provides it;
 * here it loads from node_modules and is part of the measured time.
 */
export const functionNames = ['crc', 'webhook', 'dispatcher', 'poller', 'sender', 'dm-poller'] as const;

export interface BundleResult {
  name: string;
  bytes: number;
  kb: number;
  coldInitMs: number;
}

const outDir = join(__dirname, '.tmp');
const projectNodeModules = join(__dirname, '..', 'node_modules');

function coldInitMs(bundle: string, runs: number): number {
  const script = `const t=performance.now();require(${JSON.stringify(bundle)});process.stdout.write(String(performance.now()-t));`;
  const samples = Array.from({ length: runs }, () =>
    Number(
      execFileSync(process.execPath, ['-e', script], {
        env: { ...process.env, NODE_PATH: projectNodeModules, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      }).toString(),
    ),
  );
  return percentile(samples, 50);
}

export async function measureBundles(runs = 5): Promise<BundleResult[]> {
  const results: BundleResult[] = [];
  for (const name of functionNames) {
    const dir = join(outDir, name);
    mkdirSync(dir, { recursive: true });
    const outfile = join(dir, 'index.js');
    await build({ ...esbuildOptions, external: [...esbuildOptions.external], entryPoints: [join(functionsDir, name, 'handler.ts')], outfile, logLevel: 'silent' });
    const bytes = statSync(outfile).size;
    results.push({ name, bytes, kb: round(bytes / 1024, 1), coldInitMs: round(coldInitMs(outfile, runs), 1) });
  }
  return results;
}
