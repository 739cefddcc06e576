import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Env, type FourbizSettings, type TenantSecret } from '../functions/config';
import { resourceNames } from '../infra/resource-names';
import { loadTenantConfig, type TenantConfig } from '../infra/tenant-config';
import type { XApiSimulator } from '../simulators/x';
import type { OmnichannelSimulator } from '../simulators/fourbiz-omnichannel';
import type { FourbizSimulator } from '../simulators/fourbiz-rest';
import { startEmulators } from './emulators';
import { LOCAL_PUBLIC_ORIGIN, startExternalServices } from './external-services';
import { localAws, wireFunctions } from './function-wiring';
import { startHttpGateway } from './http-gateway';
import { environmentWithDotEnv, LocalConfigError, parseLocalSettings, type LocalSettings } from './local-config';
import { localRoutes } from './local-routes';
import { createFifoQueuePair, ensureConversationTable, writeSecretsFile } from './resources';
import { WEBHOOK_PATH } from '../functions/core/x-signature';
import { engines } from '../package.json';

/**
 * `npm start`: the whole bridge on this machine, offline. The parts, started in this order and
 * stopped in reverse: the outside world (X and 4biz simulators, ./external-services.ts), the
 * tenant secret file, the emulators with the tenant's table and FIFO queues (./emulators.ts,
 * ./resources.ts), the real handlers wired as Lambda runs them (./function-wiring.ts), and the
 * local HTTP API with the webhook and the `/_local/*` endpoints (./http-gateway.ts,
 * ./local-routes.ts).
 */

const root = join(__dirname, '..');

export interface LocalBridgeOptions extends Partial<LocalSettings> {
  /** Reuse running emulators (tests, benchmarks) instead of starting DynamoDB Local and fauxqs. */
  emulators?: { dynamoEndpoint: string; sqsEndpoint: string };
  /** Suffix resource names so several bridges can share emulators. */
  uniqueNames?: boolean;
  /** Where the development secrets file goes (default .local/secrets.json; a temp dir with uniqueNames). */
  secretsFile?: string;
  log?: (line: string) => void;
}

export interface LocalBridge {
  /** The local API's base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  webhookUrl: string;
  tenant: TenantConfig;
  mode: 'relay' | 'tickets';
  /** How X reaches the bridge: webhook deliveries, or the DM poller reading the X API. */
  ingestion: 'webhook' | 'poll';
  /** Polling mode: how often the DM poller runs (ms). */
  xPollIntervalMs?: number;
  /** The consumer secret the bridge verifies deliveries and answers CRC with. */
  consumerSecret: string;
  secretsFile: string;
  /** Present when the simulator runs (not replaced by a real endpoint). */
  xApi?: XApiSimulator;
  omnichannel?: OmnichannelSimulator;
  fourbizRest?: FourbizSimulator;
  fourbizSettings: FourbizSettings;
  names: { table: string; inboundQueueUrl: string; inboundDlqUrl: string; outboundQueueUrl?: string; outboundDlqUrl?: string };
  /** Runs the tickets-mode poller once now (tests, demo); undefined in relay mode. */
  pollNow?: () => Promise<void>;
  /** Polling mode: runs the DM poller once now (tests, demo); undefined with webhook ingestion. */
  pollDmsNow?: () => Promise<void>;
  stop(): Promise<void>;
}

function chooseTenant(settings: Partial<LocalSettings>): TenantConfig {
  const name = settings.tenant ?? (settings.fourbizMode === 'tickets' ? 'example-tickets' : 'example');
  const tenant = loadTenantConfig(name);
  if (settings.fourbizMode && tenant.fourbiz.mode !== settings.fourbizMode) {
    throw new Error(`tenant ${name} is in ${tenant.fourbiz.mode} mode but FOURBIZ_MODE=${settings.fourbizMode}: pick a ${settings.fourbizMode} tenant (e.g. TENANT=${settings.fourbizMode === 'tickets' ? 'example-tickets' : 'example'})`);
  }
  return tenant;
}

/** The company's XChat keys: the X simulator's; a real X account's key blob is not something npm start can fetch. */
function xchatKeysFor(xApi: XApiSimulator | undefined): NonNullable<TenantSecret['xchat']> {
  if (!xApi) throw new LocalConfigError('XCHAT=true runs with the X simulator only: a real account\'s XChat keys go into the deployed tenant secret (npm run x -- xchat-keys, docs/xchat.md)');
  return xApi.companyXChatKeys();
}

export async function startLocalBridge(options: LocalBridgeOptions = {}): Promise<LocalBridge> {
  const log = options.log ?? (() => undefined);
  const chosen = chooseTenant(options);
  // XCHAT=true (or the tenant's x.xchat): the X simulator's people write in XChat, the company's keys go to the secret.
  const tenant = { ...chosen, x: { ...chosen.x, xchat: options.xchat ?? chosen.x.xchat } };
  const mode = tenant.fourbiz.mode;
  const ingestion = options.xIngestion ?? tenant.x.ingestion;
  const xPollIntervalMs = options.xPollIntervalMs ?? 5000;
  const suffix = options.uniqueNames ? `-${randomUUID().slice(0, 8)}` : '';
  // Whatever has started is stopped again, in reverse order, on stop() and when the start fails half-way.
  const stops: Array<() => Promise<void>> = [];
  const started = (stop: () => Promise<void>) => void stops.push(stop);
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };

  try {
    // Set once the local API listens; X only calls the webhook after someone registered it.
    let localApiUrl = '';
    const services = await startExternalServices(tenant, options, () => localApiUrl, started);

    // The tenant secret, as a git-ignored file (Secrets Manager's stand-in).
    const secret: TenantSecret = {
      ...services.xKeys,
      ...(services.fourbizUser ? { fourbizUser: services.fourbizUser, fourbizPassword: services.fourbizPassword } : {}),
      ...(tenant.x.xchat ? { xchat: xchatKeysFor(services.xApi) } : {}),
    };
    let secretsFile = options.secretsFile ?? join(root, '.local', 'secrets.json');
    if (!options.secretsFile && options.uniqueNames) {
      const dir = mkdtempSync(join(tmpdir(), '4biz-dm-local-'));
      secretsFile = join(dir, 'secrets.json');
      started(async () => rmSync(dir, { recursive: true, force: true }));
    }
    writeSecretsFile(secretsFile, secret);

    // Emulators, table and queues, named as the stack names them.
    let endpoints = options.emulators;
    if (!endpoints) {
      log('starting DynamoDB Local and fauxqs…');
      const emulators = await startEmulators();
      started(() => emulators.stop());
      endpoints = emulators;
    }
    const sqs = new SQSClient({ endpoint: endpoints.sqsEndpoint, ...localAws });
    const dynamo = new DynamoDBClient({ endpoint: endpoints.dynamoEndpoint, ...localAws });
    started(async () => {
      sqs.destroy();
      dynamo.destroy();
    });
    const rn = resourceNames(tenant.name);
    const fifo = (name: string) => name.replace(/\.fifo$/, `${suffix}.fifo`);
    const table = `${rn.table}${suffix}`;
    await ensureConversationTable(dynamo, table);
    const inbound = await createFifoQueuePair(sqs, { queue: fifo(rn.inboundQueue), dlq: fifo(rn.inboundDlq) }, tenant.inbound);
    const outbound = mode === 'tickets' ? await createFifoQueuePair(sqs, { queue: fifo(rn.outboundQueue), dlq: fifo(rn.outboundDlq) }, tenant.outbound) : undefined;

    const onError = (what: string) => (err: unknown) => log(`${what}: ${(err as Error).message}`);
    const functions = await wireFunctions({
      tenant,
      secretsFile,
      table,
      inbound,
      outbound,
      fourbizSettings: services.fourbizSettings,
      xApiBaseUrl: services.xApiBaseUrl,
      dynamoEndpoint: endpoints.dynamoEndpoint,
      sqs,
      ingestion,
      pollIntervalMs: options.pollIntervalMs ?? 3000,
      xPollIntervalMs,
      onError,
      onStarted: started,
    });

    const gateway = await startHttpGateway({
      port: options.port ?? 3000,
      host: '127.0.0.1',
      onError: (routeKey, err) => onError(routeKey)(err),
      routes: functions.routes,
      extra: localRoutes({
        tenant,
        ingestion,
        xPollIntervalMs,
        webhookUrl: () => `${localApiUrl}${WEBHOOK_PATH}`,
        services,
        secretsFile,
        pollNow: functions.pollNow,
        pollDmsNow: functions.pollDmsNow,
      }),
    });
    localApiUrl = gateway.url;
    started(() => gateway.close());

    const names = { table, inboundQueueUrl: inbound.queueUrl, inboundDlqUrl: inbound.dlqUrl, outboundQueueUrl: outbound?.queueUrl, outboundDlqUrl: outbound?.dlqUrl };
    let stopped: Promise<void> | undefined;
    return {
      url: gateway.url,
      webhookUrl: `${gateway.url}${WEBHOOK_PATH}`,
      tenant,
      mode,
      ingestion,
      ...(ingestion === 'poll' ? { xPollIntervalMs } : {}),
      consumerSecret: services.xKeys.consumerSecret,
      secretsFile,
      xApi: services.xApi,
      omnichannel: services.omnichannel,
      fourbizRest: services.fourbizRest,
      fourbizSettings: services.fourbizSettings,
      names,
      pollNow: functions.pollNow,
      pollDmsNow: functions.pollDmsNow,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export function banner(bridge: LocalBridge): string {
  const lines = [
    '',
    `4biz-twitter-dm running locally: tenant ${bridge.tenant.name} (${bridge.mode} mode)`,
    '',
    bridge.ingestion === 'poll'
      ? `  X ingestion                 polling GET /2/dm_events every ${(bridge.xPollIntervalMs ?? 0) / 1000} s (no webhook)`
      : `  Webhook (CRC + deliveries)  ${bridge.webhookUrl}`,
    `  X API                       ${bridge.xApi ? `simulator at ${bridge.xApi.url}` : process.env[Env.xApiBaseUrl]}`,
    bridge.mode === 'relay'
      ? `  4biz Omnichannel callback   ${bridge.omnichannel ? `simulator at ${bridge.omnichannel.url}` : (bridge.fourbizSettings as { callbackUrl: string }).callbackUrl}`
      : `  4biz REST                   ${bridge.fourbizRest ? `simulator at ${bridge.fourbizRest.baseUrl}` : (bridge.fourbizSettings as { baseUrl: string }).baseUrl}`,
    `  Secrets (development keys)  ${bridge.secretsFile}`,
    '',
    'Try:',
    ...(bridge.ingestion === 'poll'
      ? ['  npm run demo                                     # a DM added to the X simulator, polled, end to end']
      : [
          `  curl '${bridge.webhookUrl}?crc_token=hello'        # X's CRC check`,
          '  npm run demo                                     # a signed sample DM, end to end',
          ...(bridge.xApi
            ? [`  X_API_BASE_URL=${bridge.xApi.url} npm run x -- register --tenant ${bridge.tenant.name} --url ${LOCAL_PUBLIC_ORIGIN}${WEBHOOK_PATH}   # with the keys of docs/local-mode.md`]
            : []),
        ]),
    `  curl ${bridge.url}/_local/deliveries             # what 4biz received`,
    ...(bridge.mode === 'tickets' ? [`  curl ${bridge.url}/_local/dms                    # the reply DMs X was asked to send`] : []),
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  return lines.join('\n');
}

/**
 * package.json's `engines` (the AWS SDK's floor, Node 22). `npm start` runs the project's own Node
 * 24 (the `node` devDependency); started another way on an older Node, the runner says so and stops.
 */
export function assertSupportedNode(version: string = process.versions.node): void {
  const minMajor = Number(/^>=(\d+)$/.exec(engines.node)?.[1]);
  if (Number(version.split('.')[0]) < minMajor) {
    throw new Error(`Node ${version} is too old: the bridge needs Node ${engines.node} (package.json engines); run it with npm start, which uses the project's Node`);
  }
}

async function main(): Promise<void> {
  assertSupportedNode();
  const env = environmentWithDotEnv(process.env, join(root, '.env'));
  const settings = parseLocalSettings(env);
  const started = Date.now();
  const bridge = await startLocalBridge({ ...settings, log: (line) => console.error(line) });
  console.log(banner(bridge));
  console.log(`(ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping pollers, servers and emulators…`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    bridge.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    const e = err as Error & { code?: string };
    console.error(e.code === 'EADDRINUSE' ? `port in use: ${e.message} (set PORT to another port)` : `npm start failed: ${e.message}`);
    process.exit(1);
  });
}
