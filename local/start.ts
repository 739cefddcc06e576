import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { z } from 'zod';
import { Env, functionEnvironment, type FourbizSettings, type TenantSecret } from '../functions/config';
import { createConversationTable } from '../functions/adapters/conversation-table';
import { resourceNames } from '../infra/resource-names';
import { loadTenantConfig, type TenantConfig } from '../infra/tenant-config';
import { startXApiSimulator, simulatorCredentials, type XApiSimulator } from '../simulators/x-api';
import { startOmnichannelSimulator, type OmnichannelSimulator } from '../simulators/fourbiz-omnichannel';
import { startFourBizSimulator, type FourBizSimulator } from '../simulators/fourbiz-rest';
import { startDynamoDbLocal, startFauxqs, type Emulator } from './emulators';
import { startHttpGateway, lambdaContext, type HttpGateway } from './http-gateway';
import { environmentWithDotEnv, parseLocalSettings, type LocalSettings } from './local-config';
import { resolveLocalhostSubdomains } from './localhost-dns';
import { startSqsEventSource, type SqsEventSource } from './sqs-event-source';
import { readBody } from './http';

/**
 * `npm start`: the whole bridge on this machine, offline. The real handlers (imported below,
 * wired from the environment exactly as in Lambda) behind a local HTTP API, DynamoDB Local and
 * fauxqs with the tenant's table and FIFO queues, the dispatcher (and in tickets mode the poller
 * and sender) fed as Lambda would feed them, and by default the X and 4biz simulators.
 */

export const WEBHOOK_PATH = '/webhooks/twitter';
/**
 * The webhook URL to register with the X simulator: X accepts only https URLs without a port, so
 * the simulator maps this origin to the local API (X's CRC checks and deliveries reach it there).
 */
export const LOCAL_PUBLIC_ORIGIN = 'https://bridge.localhost';
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
  fourbizRest?: FourBizSimulator;
  fourbizSettings: FourbizSettings;
  names: { table: string; inboundQueueUrl: string; inboundDlqUrl: string; outboundQueueUrl?: string; outboundDlqUrl?: string };
  /** Runs the tickets-mode poller once now (tests, demo); undefined in relay mode. */
  pollNow?: () => Promise<void>;
  /** Polling mode: runs the DM poller once now (tests, demo); undefined with webhook ingestion. */
  pollDmsNow?: () => Promise<void>;
  stop(): Promise<void>;
}

/** t.co links of a DM added with POST /_local/x-dm, as `{url, expandedUrl}`. */
const urlsSchema = z.array(z.object({ url: z.string().url(), expandedUrl: z.string().url() })).max(10);

const dummyAws = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };

async function createQueuePair(sqs: SQSClient, name: string, dlqName: string, maxReceiveCount: number, visibilityTimeoutSeconds: number) {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: dlqName, Attributes: { FifoQueue: 'true' } }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }));
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        FifoQueue: 'true',
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: attrs.Attributes!.QueueArn!, maxReceiveCount }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

function chooseTenant(settings: Partial<LocalSettings>): TenantConfig {
  const name = settings.tenant ?? (settings.fourbizMode === 'tickets' ? 'example-tickets' : 'example');
  const tenant = loadTenantConfig(name);
  if (settings.fourbizMode && tenant.fourbiz.mode !== settings.fourbizMode) {
    throw new Error(`tenant ${name} is in ${tenant.fourbiz.mode} mode but FOURBIZ_MODE=${settings.fourbizMode}: pick a ${settings.fourbizMode} tenant (e.g. TENANT=${settings.fourbizMode === 'tickets' ? 'example-tickets' : 'example'})`);
  }
  return tenant;
}

function sendJson(res: ServerResponse, body: unknown): true {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2));
  return true;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  try {
    return JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

export async function startLocalBridge(options: LocalBridgeOptions = {}): Promise<LocalBridge> {
  const log = options.log ?? (() => undefined);
  const tenant = chooseTenant(options);
  const mode = tenant.fourbiz.mode;
  const ingestion = options.xIngestion ?? tenant.x.ingestion;
  const suffix = options.uniqueNames ? `-${randomUUID().slice(0, 8)}` : '';
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };

  try {
    // The outside world: real endpoints when configured, simulators otherwise.
    const xKeys = options.x ?? simulatorCredentials;
    let xApi: XApiSimulator | undefined;
    // Set once the local API listens; X only calls the webhook after someone registered it.
    let localApiUrl = '';
    if (!options.xApiBaseUrl) {
      xApi = await startXApiSimulator({
        credentials: xKeys,
        accountId: tenant.xAccountId,
        // Locally the dm-poller runs every few seconds (X_POLL_INTERVAL_SECONDS): X's 15 lookups per 15 minutes would stop it within a minute.
        rateLimits: { 'GET /2/dm_events': { limit: 100_000, windowSeconds: 900 } },
        resolveWebhookUrl: (url) => (url.startsWith(`${LOCAL_PUBLIC_ORIGIN}/`) ? localApiUrl + url.slice(LOCAL_PUBLIC_ORIGIN.length) : url),
      });
      stops.push(() => xApi!.close());
    }
    const xApiBaseUrl = options.xApiBaseUrl ?? xApi!.url;

    let omnichannel: OmnichannelSimulator | undefined;
    let fourbizRest: FourBizSimulator | undefined;
    let fourbizSettings: FourbizSettings;
    let fourbizUser: string | undefined;
    let fourbizPassword: string | undefined;
    if (tenant.fourbiz.mode === 'relay') {
      if (!options.fourbizCallbackUrl) {
        omnichannel = await startOmnichannelSimulator({ consumerSecret: xKeys.consumerSecret });
        stops.push(() => omnichannel!.stop());
      }
      fourbizSettings = { ...tenant.fourbiz, callbackUrl: options.fourbizCallbackUrl ?? omnichannel!.url };
    } else {
      if (!options.fourbizBaseUrl) {
        fourbizRest = await startFourBizSimulator();
        stops.push(() => fourbizRest!.close());
      }
      fourbizSettings = { ...tenant.fourbiz, baseUrl: options.fourbizBaseUrl ?? fourbizRest!.baseUrl };
      fourbizUser = options.fourbizUser ?? fourbizRest?.userName;
      fourbizPassword = options.fourbizPassword ?? fourbizRest?.password;
    }

    // The tenant secret, as a git-ignored file (Secrets Manager's stand-in).
    const secret: TenantSecret = { ...xKeys, ...(fourbizUser ? { fourbizUser, fourbizPassword } : {}) };
    let secretsFile = options.secretsFile ?? join(root, '.local', 'secrets.json');
    if (!options.secretsFile && options.uniqueNames) {
      const dir = mkdtempSync(join(tmpdir(), '4biz-dm-local-'));
      secretsFile = join(dir, 'secrets.json');
      stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    }
    mkdirSync(join(secretsFile, '..'), { recursive: true });
    writeFileSync(secretsFile, `${JSON.stringify(secret, null, 2)}\n`, { mode: 0o600 });
    chmodSync(secretsFile, 0o600);

    // Emulators, table and queues, named as the stack names them.
    let endpoints = options.emulators;
    if (!endpoints) {
      log('starting DynamoDB Local and fauxqs…');
      const [dynamo, sqs]: Emulator[] = await Promise.all([startDynamoDbLocal(), startFauxqs()]);
      stops.push(() => Promise.all([dynamo!.stop(), sqs!.stop()]).then(() => undefined));
      endpoints = { dynamoEndpoint: dynamo!.endpoint, sqsEndpoint: sqs!.endpoint };
    }
    const credentials = { accessKeyId: dummyAws.AWS_ACCESS_KEY_ID, secretAccessKey: dummyAws.AWS_SECRET_ACCESS_KEY };
    const sqs = new SQSClient({ endpoint: endpoints.sqsEndpoint, region: dummyAws.AWS_REGION, credentials });
    const dynamo = new DynamoDBClient({ endpoint: endpoints.dynamoEndpoint, region: dummyAws.AWS_REGION, credentials });
    stops.push(async () => {
      sqs.destroy();
      dynamo.destroy();
    });
    const rn = resourceNames(tenant.name);
    const fifo = (name: string) => name.replace(/\.fifo$/, `${suffix}.fifo`);
    const table = `${rn.table}${suffix}`;
    try {
      await createConversationTable(dynamo, table);
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    const inbound = await createQueuePair(sqs, fifo(rn.inboundQueue), fifo(rn.inboundDlq), tenant.inbound.maxReceiveCount, tenant.inbound.visibilityTimeoutSeconds);
    const outbound =
      mode === 'tickets'
        ? await createQueuePair(sqs, fifo(rn.outboundQueue), fifo(rn.outboundDlq), tenant.outbound.maxReceiveCount, tenant.outbound.visibilityTimeoutSeconds)
        : undefined;

    // The functions' environment, as the stack sets it; the SDK picks the emulator endpoints up itself.
    // The SQS endpoint is the queue URLs' own origin, which the SQS client would otherwise switch to, warning each call.
    // One process runs every function: each parses its own variables out of the union (functions/config.ts).
    const values = {
      tenant: tenant.name,
      secretsFile,
      inboundQueueUrl: inbound.queueUrl,
      inboundDlqUrl: inbound.dlqUrl,
      tableName: table,
      fourbiz: fourbizSettings,
      conversationIdleMinutes: tenant.conversationIdleMinutes,
      xApiBaseUrl,
      xAccountId: tenant.xAccountId,
      localMode: true as const,
      pollBackfillMinutes: tenant.x.pollBackfillMinutes,
      ...(outbound ? { outboundQueueUrl: outbound.queueUrl, outboundDlqUrl: outbound.dlqUrl } : {}),
    };
    Object.assign(
      process.env,
      dummyAws,
      { AWS_ENDPOINT_URL_SQS: new URL(inbound.queueUrl).origin, AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamoEndpoint },
      ...(['crc', 'webhook', 'dispatcher', 'dm-poller'] as const).map((name) => functionEnvironment(name, values)),
      ...(outbound ? [functionEnvironment('poller', { ...values, outboundQueueUrl: outbound.queueUrl }), functionEnvironment('sender', { ...values, outboundQueueUrl: outbound.queueUrl, outboundDlqUrl: outbound.dlqUrl })] : []),
    );
    delete process.env[Env.secretArn];
    resolveLocalhostSubdomains();
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= '1';

    // Imported only now: nothing in them reads the environment before their first invocation.
    const [crc, webhook, dispatcher] = await Promise.all([
      import('../functions/crc/handler'),
      import('../functions/webhook/handler'),
      import('../functions/dispatcher/handler'),
    ]);

    const onError = (what: string) => (err: unknown) => log(`${what}: ${(err as Error).message}`);
    const scheduled = (): ScheduledEvent => ({
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: dummyAws.AWS_REGION,
      resources: [],
      detail: {},
    });
    /** A scheduled function as EventBridge runs it: every `intervalMs`, plus on demand; one run at a time here too. */
    const schedule = (name: string, run: (event: ScheduledEvent, context: Context) => Promise<unknown>, intervalMs: number) => {
      let running: Promise<void> | undefined;
      const now = () =>
        (running ??= (async () => {
          try {
            await run(scheduled(), lambdaContext(name, 60_000));
          } catch (err) {
            onError(name)(err);
          } finally {
            running = undefined;
          }
        })());
      const timer = setInterval(() => void now(), intervalMs);
      stops.push(async () => {
        clearInterval(timer);
        await running;
      });
      return now;
    };
    const sources: SqsEventSource[] = [];
    sources.push(
      startSqsEventSource({
        client: sqs,
        queueUrl: inbound.queueUrl,
        handler: dispatcher.handler,
        batchSize: tenant.inbound.batchSize,
        waitTimeSeconds: 1,
        concurrency: tenant.inbound.maxConcurrency,
        functionName: 'dispatcher',
        onError: onError('dispatcher'),
      }),
    );

    let pollNow: (() => Promise<void>) | undefined;
    if (outbound) {
      const [poller, sender] = await Promise.all([import('../functions/poller/handler'), import('../functions/sender/handler')]);
      sources.push(
        startSqsEventSource({
          client: sqs,
          queueUrl: outbound.queueUrl,
          handler: sender.handler as never,
          batchSize: 10,
          waitTimeSeconds: 1,
          functionName: 'sender',
          onError: onError('sender'),
        }),
      );
      pollNow = schedule('poller', poller.handler, options.pollIntervalMs ?? 3000);
    }

    let pollDmsNow: (() => Promise<void>) | undefined;
    const xPollIntervalMs = options.xPollIntervalMs ?? 5000;
    if (ingestion === 'poll') {
      const dmPoller = await import('../functions/dm-poller/handler');
      pollDmsNow = schedule('dm-poller', dmPoller.handler, xPollIntervalMs);
      // The first run sets the cursor at once, so a DM sent right after start-up is new, not history.
      void pollDmsNow();
    }
    for (const s of sources) s.start();
    stops.push(() => Promise.all(sources.map((s) => s.stop())).then(() => undefined));

    const gateway: HttpGateway = await startHttpGateway({
      port: options.port ?? 3000,
      host: '127.0.0.1',
      onError: (routeKey, err) => onError(routeKey)(err),
      // Polling mode has no webhook (as its stack has no API): the path answers 404.
      routes:
        ingestion === 'webhook'
          ? [
              { method: 'GET', path: WEBHOOK_PATH, handler: crc.handler },
              { method: 'POST', path: WEBHOOK_PATH, handler: webhook.handler },
            ]
          : [],
      extra: async (req, res, url) => {
        if (req.method === 'GET' && url.pathname === '/_local/status') {
          return sendJson(res, {
            tenant: tenant.name,
            mode,
            ingestion,
            ...(ingestion === 'poll' ? { xPollIntervalMs } : {}),
            webhookUrl: `${gatewayUrl()}${WEBHOOK_PATH}`,
            xApi: xApi ? 'simulator' : xApiBaseUrl,
            fourbiz: mode === 'relay' ? (omnichannel ? 'simulator' : fourbizSettings.mode === 'relay' && fourbizSettings.callbackUrl) : fourbizRest ? 'simulator' : options.fourbizBaseUrl,
            xAccountId: tenant.xAccountId,
            secretsFile,
          });
        }
        if (req.method === 'GET' && url.pathname === '/_local/deliveries') {
          if (omnichannel) return sendJson(res, omnichannel.deliveries.map((d) => ({ eventId: d.eventId, senderId: d.senderId, signature: d.signature, body: d.body })));
          if (fourbizRest) return sendJson(res, fourbizRest.requests);
          return sendJson(res, []);
        }
        if (req.method === 'GET' && url.pathname === '/_local/dms') return sendJson(res, xApi?.dms ?? []);
        if (req.method === 'POST' && url.pathname === '/_local/x-dm' && xApi && pollDmsNow) {
          // Plays a person writing to the company: the DM lands in the X simulator's DM events, then a poll runs at once.
          const body = await readJson(req);
          const senderId = typeof body.senderId === 'string' && /^\d{1,32}$/.test(body.senderId) ? body.senderId : '2900000000000000042';
          const eventId = xApi.addDmEvent({
            senderId,
            username: typeof body.username === 'string' ? body.username : 'maria_souza',
            name: typeof body.name === 'string' ? body.name : 'Maria Souza',
            text: typeof body.text === 'string' ? body.text : 'Olá, preciso de ajuda com meu pedido',
            urls: urlsSchema.safeParse(body.urls).data,
          });
          void pollDmsNow();
          return sendJson(res, { eventId, senderId });
        }
        if (req.method === 'POST' && url.pathname === '/_local/agent-reply' && fourbizRest) {
          // Plays the 4biz agent: writes on the request, then polls at once instead of waiting for the schedule.
          const body = await readJson(req);
          const request = fourbizRest.requests.find((r) => r.numberOrigin === body.numberOrigin) ?? fourbizRest.requests.at(-1);
          if (!request) {
            res.writeHead(404, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ message: 'no 4biz request yet' }));
            return true;
          }
          const occurrence = fourbizRest.addAgentOccurrence(request.number, typeof body.text === 'string' ? body.text : 'Olá! Já estamos verificando.');
          void pollNow?.();
          return sendJson(res, { requestNumber: request.number, occurrence });
        }
        return false;
      },
    });
    const gatewayUrl = () => gateway.url;
    localApiUrl = gateway.url;
    stops.push(() => gateway.close());

    const names = { table, inboundQueueUrl: inbound.queueUrl, inboundDlqUrl: inbound.dlqUrl, outboundQueueUrl: outbound?.queueUrl, outboundDlqUrl: outbound?.dlqUrl };
    let stopped: Promise<void> | undefined;
    return {
      url: gateway.url,
      webhookUrl: `${gateway.url}${WEBHOOK_PATH}`,
      tenant,
      mode,
      ingestion,
      ...(ingestion === 'poll' ? { xPollIntervalMs } : {}),
      consumerSecret: xKeys.consumerSecret,
      secretsFile,
      xApi,
      omnichannel,
      fourbizRest,
      fourbizSettings,
      names,
      pollNow,
      pollDmsNow,
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

async function main(): Promise<void> {
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
