import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { Env, functionEnvironment, type FourbizSettings } from '../functions/config';
import type { TenantConfig } from '../infra/tenant-config';
import type { GatewayRoute } from './http-gateway';
import { lambdaContext } from './lambda-context';
import { resolveLocalhostSubdomains } from './localhost-dns';
import type { FifoQueuePair } from './resources';
import { startSqsEventSource, type SqsEventSource } from './sqs-event-source';
import { WEBHOOK_PATH } from '../functions/core/x-signature';

/**
 * The functions as Lambda runs them: their environment as the stack sets it, the real handlers
 * (imported only once the environment is in place), the SQS event sources of the dispatcher and
 * the sender, and the scheduled pollers.
 */


/** What the runner made for the functions, the inputs of their environment. */
interface LocalFunctionResources {
  tenant: TenantConfig;
  secretsFile: string;
  table: string;
  inbound: FifoQueuePair;
  /** Tickets mode only. */
  outbound?: FifoQueuePair;
  fourbizSettings: FourbizSettings;
  xApiBaseUrl: string;
  dynamoEndpoint: string;
}

/** The local stand-in for AWS's region and credentials: the emulators accept any key. */
export const localAws = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/**
 * The functions' environment: what the stack sets for each (functionEnvironment, the same writer
 * as the CDK constructs), merged because one process runs every function and each parses its own
 * variables out of the union; plus what reaches the emulators: dummy credentials and the endpoints
 * the SDK picks up itself. The SQS endpoint is the queue URLs' own origin, which the SQS client
 * would otherwise switch to, warning each call.
 */
function localFunctionEnvironment(r: LocalFunctionResources): Record<string, string> {
  const values = {
    tenant: r.tenant.name,
    secretsFile: r.secretsFile,
    inboundQueueUrl: r.inbound.queueUrl,
    inboundDlqUrl: r.inbound.dlqUrl,
    tableName: r.table,
    fourbiz: r.fourbizSettings,
    conversationIdleMinutes: r.tenant.conversationIdleMinutes,
    xApiBaseUrl: r.xApiBaseUrl,
    xAccountId: r.tenant.xAccountId,
    localMode: true as const,
    pollBackfillMinutes: r.tenant.x.pollBackfillMinutes,
    ...(r.tenant.x.xchat ? { xchat: true } : {}),
    outageWaitHours: r.tenant.inbound.outageWaitHours,
  };
  const outbound = r.outbound;
  return Object.assign(
    {
      AWS_REGION: localAws.region,
      AWS_ACCESS_KEY_ID: localAws.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localAws.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_SQS: new URL(r.inbound.queueUrl).origin,
      AWS_ENDPOINT_URL_DYNAMODB: r.dynamoEndpoint,
    },
    ...(['crc', 'webhook', 'dispatcher', 'dm-poller'] as const).map((name) => functionEnvironment(name, values)),
    ...(outbound
      ? [
          functionEnvironment('poller', { ...values, outboundQueueUrl: outbound.queueUrl }),
          functionEnvironment('sender', { ...values, outboundQueueUrl: outbound.queueUrl, outboundDlqUrl: outbound.dlqUrl }),
        ]
      : []),
  );
}

export interface WiringOptions extends LocalFunctionResources {
  sqs: SQSClient;
  ingestion: 'webhook' | 'poll';
  /** Tickets mode: how often the poller runs (ms). */
  pollIntervalMs: number;
  /** Polling mode: how often the DM poller runs (ms). */
  xPollIntervalMs: number;
  onError: (what: string) => (err: unknown) => void;
  /** Handed each stop as soon as what it stops runs, so a later failure can stop it. */
  onStarted: (stop: () => Promise<void>) => void;
}

export interface WiredFunctions {
  /** crc and webhook behind the webhook path; none in polling mode (as its stack has no API). */
  routes: GatewayRoute[];
  /** Runs the tickets-mode poller once now; undefined in relay mode. */
  pollNow?: () => Promise<void>;
  /** Polling mode: runs the DM poller once now; undefined with webhook ingestion. */
  pollDmsNow?: () => Promise<void>;
}

function scheduledEvent(): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: localAws.region,
    resources: [],
    detail: {},
  };
}

/** Sets the environment, imports the handlers and starts feeding them. */
export async function wireFunctions(o: WiringOptions): Promise<WiredFunctions> {
  Object.assign(process.env, localFunctionEnvironment(o));
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

  /** A scheduled function as EventBridge runs it: every `intervalMs`, plus on demand; one run at a time here too. */
  const schedule = (name: string, run: (event: ScheduledEvent, context: Context) => Promise<unknown>, intervalMs: number) => {
    let running: Promise<void> | undefined;
    const now = () =>
      (running ??= (async () => {
        try {
          await run(scheduledEvent(), lambdaContext(name, 60_000));
        } catch (err) {
          o.onError(name)(err);
        } finally {
          running = undefined;
        }
      })());
    const timer = setInterval(() => void now(), intervalMs);
    o.onStarted(async () => {
      clearInterval(timer);
      await running;
    });
    return now;
  };

  const sources: SqsEventSource[] = [
    startSqsEventSource({
      client: o.sqs,
      queueUrl: o.inbound.queueUrl,
      handler: dispatcher.handler,
      batchSize: o.tenant.inbound.batchSize,
      waitTimeSeconds: 1,
      concurrency: o.tenant.inbound.maxConcurrency,
      functionName: 'dispatcher',
      onError: o.onError('dispatcher'),
    }),
  ];

  let pollNow: (() => Promise<void>) | undefined;
  if (o.outbound) {
    const [poller, sender] = await Promise.all([import('../functions/poller/handler'), import('../functions/sender/handler')]);
    sources.push(
      startSqsEventSource({
        client: o.sqs,
        queueUrl: o.outbound.queueUrl,
        handler: sender.handler as never,
        batchSize: 10,
        waitTimeSeconds: 1,
        functionName: 'sender',
        onError: o.onError('sender'),
      }),
    );
    pollNow = schedule('poller', poller.handler, o.pollIntervalMs);
  }

  let pollDmsNow: (() => Promise<void>) | undefined;
  if (o.ingestion === 'poll') {
    const dmPoller = await import('../functions/dm-poller/handler');
    pollDmsNow = schedule('dm-poller', dmPoller.handler, o.xPollIntervalMs);
    // The first run sets the cursor at once, so a DM sent right after start-up is new, not history.
    void pollDmsNow();
  }
  for (const s of sources) s.start();
  o.onStarted(() => Promise.all(sources.map((s) => s.stop())).then(() => undefined));

  const routes: GatewayRoute[] =
    o.ingestion === 'webhook'
      ? [
          { method: 'GET', path: WEBHOOK_PATH, handler: crc.handler },
          { method: 'POST', path: WEBHOOK_PATH, handler: webhook.handler },
        ]
      : [];
  return { routes, pollNow, pollDmsNow };
}
