import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { functionNames } from '../functions/config';
import { esbuildOptions, functionsDir } from '../infra/constructs/bridge-function';
import { percentile, round } from './stats';

/**
 * Each function bundled exactly as the stack bundles it (infra/constructs/bridge-function.ts), its
 * minified size, and its cold init: the time to load the bundle in a fresh Node process, median
 * of several processes. Beside it, in the same run and with the same bundling settings, its floor:
 * a bundle that only constructs the AWS SDK clients the function's bundle holds (read from
 * esbuild's metafile), the part of a cold start no handler code can avoid. The two are loaded
 * alternately so that a busy moment of the machine weighs on both alike.
 */

export interface BundleResult {
  name: string;
  bytes: number;
  kb: number;
  coldInitMs: number;
  /** The SDK clients of the bundle, constructed and nothing else. */
  floor: { clients: string[]; kb: number; coldInitMs: number };
  /** coldInitMs / floor.coldInitMs. */
  ratio: number;
}

const outDir = join(__dirname, '.tmp');
const root = join(__dirname, '..');
/** Where a bundle finds what it does not hold (chat-xdk, which ships beside the bundle in the asset). */
export const projectNodeModules = join(root, 'node_modules');

/** The SDK packages a function may bundle and the client class each constructs. */
const clientClasses: Record<string, string> = {
  '@aws-sdk/client-dynamodb': 'DynamoDBClient',
  '@aws-sdk/client-kms': 'KMSClient',
  '@aws-sdk/client-secrets-manager': 'SecretsManagerClient',
  '@aws-sdk/client-sqs': 'SQSClient',
};

function loadMs(bundle: string): number {
  const script = `const t=performance.now();require(${JSON.stringify(bundle)});process.stdout.write(String(performance.now()-t));`;
  return Number(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_PATH: projectNodeModules } }).toString());
}

/** A function (or a source) bundled with the stack's esbuild settings into bench/.tmp/VARIANT/NAME. */
export async function bundle(name: string, variant: string, entry: { file: string } | { source: string }): Promise<{ outfile: string; metafile: Metafile }> {
  const dir = join(outDir, variant, name);
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'index.js');
  const input = 'file' in entry ? { entryPoints: [entry.file] } : { stdin: { contents: entry.source, resolveDir: root, loader: 'ts' as const } };
  const { metafile } = await build({ ...esbuildOptions, external: [...esbuildOptions.external], ...input, outfile, metafile: true, logLevel: 'silent' });
  return { outfile, metafile: metafile! };
}

/** The SDK client packages in a bundle (lib-dynamodb's document client counts as its own). */
function sdkPackages(metafile: Metafile): string[] {
  const packages = Object.keys(metafile.inputs).map((i) => /node_modules\/(@aws-sdk\/(?:client-[^/]+|lib-dynamodb))\//.exec(i)?.[1]);
  return [...new Set(packages.filter((p): p is string => p !== undefined))].sort();
}

/** A module that constructs those clients as the handlers do, and nothing else. */
function floorSource(packages: string[]): string {
  const unknown = packages.filter((p) => p !== '@aws-sdk/lib-dynamodb' && !clientClasses[p]);
  if (unknown.length > 0) throw new Error(`bench/bundles.ts: add the client class of ${unknown.join(', ')} to clientClasses`);
  const clients = packages.filter((p) => clientClasses[p]);
  const lines = clients.map((p) => `import { ${clientClasses[p]} } from '${p}';`);
  const made = clients.map((p) => `new ${clientClasses[p]}({})`);
  if (packages.includes('@aws-sdk/lib-dynamodb')) {
    lines.push("import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';");
    made.push('DynamoDBDocumentClient.from(new DynamoDBClient({}))');
  }
  return `${lines.join('\n')}\nexport const clients = [${made.join(', ')}];\n`;
}

export async function measureBundles(runs = 5): Promise<BundleResult[]> {
  const results: BundleResult[] = [];
  for (const name of functionNames) {
    const deployed = await bundle(name, 'deployed', { file: join(functionsDir, name, 'handler.ts') });
    const clients = sdkPackages(deployed.metafile);
    const floor = await bundle(name, 'floor', { source: floorSource(clients) });
    const samples = Array.from({ length: runs }, () => [loadMs(deployed.outfile), loadMs(floor.outfile)] as const);
    const coldInitMs = round(percentile(samples.map(([d]) => d), 50), 1);
    const floorMs = round(percentile(samples.map(([, f]) => f), 50), 1);
    const bytes = statSync(deployed.outfile).size;
    results.push({
      name,
      bytes,
      kb: round(bytes / 1024, 1),
      coldInitMs,
      floor: { clients, kb: round(statSync(floor.outfile).size / 1024, 1), coldInitMs: floorMs },
      ratio: round(coldInitMs / floorMs, 2),
    });
  }
  return results;
}
