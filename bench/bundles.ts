import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { functionNames } from '../functions/config';
import { esbuildOptions, functionsDir } from '../infra/constructs/bridge-function';
import { percentile, round } from './stats';

/**
 * Each function bundled exactly as the stack bundles it (infra/constructs/bridge-function.ts), its
 * minified size, and its cold init: the time to load the bundle in a fresh Node process, median
 * of several processes. The AWS SDK is in the bundle, as deployed; for comparison each function
 * is also built with the SDK left external (how it was deployed before), the SDK then loading
 * from node_modules, which is part of the measured time.
 */

export interface BundleResult {
  name: string;
  bytes: number;
  kb: number;
  coldInitMs: number;
  /** The same function with @aws-sdk/* external (loaded from the runtime instead). */
  sdkExternal: { kb: number; coldInitMs: number };
}

const outDir = join(__dirname, '.tmp');
const projectNodeModules = join(__dirname, '..', 'node_modules');

function coldInitMs(bundle: string, runs: number): number {
  const script = `const t=performance.now();require(${JSON.stringify(bundle)});process.stdout.write(String(performance.now()-t));`;
  const samples = Array.from({ length: runs }, () =>
    Number(
      execFileSync(process.execPath, ['-e', script], {
        env: { ...process.env, NODE_PATH: projectNodeModules },
      }).toString(),
    ),
  );
  return percentile(samples, 50);
}

async function bundle(name: string, variant: string, external: string[]): Promise<string> {
  const dir = join(outDir, variant, name);
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'index.js');
  await build({ ...esbuildOptions, external, entryPoints: [join(functionsDir, name, 'handler.ts')], outfile, logLevel: 'silent' });
  return outfile;
}

export async function measureBundles(runs = 5): Promise<BundleResult[]> {
  const results: BundleResult[] = [];
  for (const name of functionNames) {
    const deployed = await bundle(name, 'deployed', [...esbuildOptions.external]);
    const external = await bundle(name, 'sdk-external', [...esbuildOptions.external, '@aws-sdk/*']);
    const bytes = statSync(deployed).size;
    results.push({
      name,
      bytes,
      kb: round(bytes / 1024, 1),
      coldInitMs: round(coldInitMs(deployed, runs), 1),
      sdkExternal: { kb: round(statSync(external).size / 1024, 1), coldInitMs: round(coldInitMs(external, runs), 1) },
    });
  }
  return results;
}
