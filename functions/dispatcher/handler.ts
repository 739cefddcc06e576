import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processFifoBatch, queuedAt } from '../fifo-batch';
import { fourbizCallsPerRecord, RECORD_MARGIN_MS, retryOf, secretOf } from '../config';
import { dispatchInbound } from '../core/dispatch';
import { Metric } from '../core/metric-names';
import { ConfigurationError, FourbizAuthError, InvalidQueueMessageError, OutageWaitError, PermanentError, RequestFinishedError, TransientError, WaitingError } from '../core/errors';
import { createOutageCircuit, LOCAL_CIRCUIT_TIMING, type OutageCircuit } from '../core/outage-circuit';
import { DEFAULT_MAX_ATTEMPTS, decideFromAttempts, type FailureDecision } from '../core/failure-policy';
import { PROCESSED_EVENT_LIFETIME_SECONDS, processedKey, processedLifetimeSeconds } from '../core/processed-key';
import type { BackoffOptions } from '../core/retry';
import { parseQueueBody } from '../core/queue-body';
import { inboundMessageSchema, type InboundMessage } from '../core/x-events';
import { encryptedChatMessageSchema, openChatMessage, type EncryptedChatMessage, type XChatDeps } from '../core/xchat';
import { conversationStoreFor } from '../adapters/conversation-store';
import { circuitStoreFor } from '../adapters/outage-circuit-store';
import { createFourbizClient } from '../adapters/fourbiz';
import { FAILURE_REASON_ATTRIBUTE, sqsQueueControl } from '../adapters/queue-control';
import { secretSourceFor } from '../adapters/secrets';
import { leaseStoreFor } from '../adapters/lease-store';
import { createXMediaDownloader } from '../adapters/x-media';
import { xchatSetup } from '../adapters/xchat-setup';
import { createObservability, type Observability } from '../observability';
import { wireOnFirstCall } from '../wiring';
import type { ConversationStore, FourbizClient, QueueControl } from '../core/ports';

export interface DispatcherDeps extends Observability<'dispatcher'> {
  store: ConversationStore;
  fourbiz: FourbizClient;
  queue: QueueControl;
  /** The 4biz outage circuit, shared by every dispatcher instance (the conversation table). */
  circuit: OutageCircuit;
  idleMinutes: number;
  backoff: BackoffOptions;
  /** Failed attempts after which a DM goes to the DLQ (its own attempts, kept in the table). */
  maxAttempts?: number;
  /**
   * Time one record may need (4biz timeout plus bookkeeping). A record is not started with less
   * than this left in the invocation: it is handed back at once instead of being cut off mid-way.
   */
  reserveMs?: number;
  /**
   * How long processed records live (the store's TTL): a DM older than this is counted as
   * OldDmReceived. Longer when a source re-reads further back (polling backfill).
   */
  processedLifetimeSeconds?: number;
  /** XChat (core/xchat.ts): what opens an encrypted chat message; built on first use (it loads chat-xdk). */
  xchat?: () => Promise<XChatDeps>;
  /** Injected for deterministic tests. */
  random?: () => number;
  clock?: () => number;
}

/** A body that is not an inbound message: straight to the DLQ (no retry can fix it). */

/**
 * The dispatcher: inbound FIFO queue → 4biz, one message at a time per X user. Each record is
 * delivered once (processed-event record), or retried with back-off through its visibility
 * timeout (transient), or copied to the DLQ and acknowledged (permanent failure, invalid body, or
 * its own attempts used up). Later records of a failed record's group are not processed ahead of
 * it (skipGroupOnError), and never counted as attempts.
 */
export function createDispatcherHandler(deps: DispatcherDeps) {
  const { logger, metrics, store, fourbiz, queue, circuit, idleMinutes, backoff } = deps;
  const random = deps.random ?? Math.random;
  const clock = deps.clock ?? Date.now;
  const reserveMs = deps.reserveMs ?? 6_000;
  const policy = { maxAttempts: deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, backoff };
  const lifetimeMs = (deps.processedLifetimeSeconds ?? PROCESSED_EVENT_LIFETIME_SECONDS) * 1000;

  /**
   * An XChat message opened: the inbound message it holds, or undefined when it is dropped (does
   * not verify, cannot be decrypted, is not text): logged without content, counted, acknowledged.
   */
  async function openChat(queued: EncryptedChatMessage): Promise<InboundMessage | undefined> {
    if (!deps.xchat) throw new ConfigurationError('an XChat message arrived but this dispatcher has no XChat set-up (tenant x.xchat)');
    const opened = await openChatMessage(queued, await deps.xchat());
    const keys = { xUserId: queued.xchat.senderId, eventUuid: queued.xchat.eventUuid };
    if (opened.kind === 'refused') {
      logger.error('XChat message dropped: it does not verify or cannot be decrypted', { ...keys, reason: opened.reason, detail: opened.detail });
      metrics.addMetric(Metric.XChatDropped, MetricUnit.Count, 1);
      return undefined;
    }
    if (opened.kind === 'ignored') {
      logger.info('XChat event without text ignored', { ...keys, eventType: opened.eventType });
      metrics.addMetric(Metric.EventIgnored, MetricUnit.Count, 1);
      return undefined;
    }
    if (opened.message.attachments.length > 0) {
      logger.warn('XChat attachments not forwarded (XChat media is not supported): the text is', { ...keys, attachments: opened.message.attachments.map((a) => a.mediaType) });
      metrics.addMetric(Metric.XChatAttachmentNotForwarded, MetricUnit.Count, opened.message.attachments.length);
    }
    return opened.message;
  }

  async function handleRecord(record: SQSRecord): Promise<void> {
    const chat = parseQueueBody(record.body, encryptedChatMessageSchema);
    const parsed = chat.ok ? undefined : parseQueueBody(record.body, inboundMessageSchema);
    if (parsed && !parsed.ok) {
      metrics.addMetric(Metric.InvalidQueueMessage, MetricUnit.Count, 1);
      throw new InvalidQueueMessageError(`not an inbound message: ${parsed.reason}`);
    }
    const message = chat.ok ? await openChat(chat.value) : parsed!.ok ? parsed!.value : undefined;
    if (!message) return;
    const keys = { eventId: message.eventId, xUserId: message.sender.id };
    const gate = await circuit.gate(clock(), waitedFor(record));
    if (gate.kind === 'wait') {
      // 4biz fails for everyone: not tried, no attempt spent; the person's later DMs stay behind it.
      metrics.addMetric(Metric.FourbizOutageWait, MetricUnit.Count, 1);
      throw new OutageWaitError(`4biz outage since ${new Date(gate.openedAt).toISOString()}: the DM waits ${gate.inSeconds} s`, undefined, clock() + gate.inSeconds * 1000);
    }
    if (gate.kind === 'probe') logger.info('4biz outage: this DM probes whether 4biz answers again', keys);
    if (clock() - Number(message.createdTimestamp) > lifetimeMs) {
      // Older than the processed records live: a repeat could no longer be recognised. Forwarded, but counted.
      logger.warn('DM older than the processed-event lifetime: forwarded, but a repeat of it would not be recognised', keys);
      metrics.addMetric(Metric.OldDmReceived, MetricUnit.Count, 1);
    }
    // Received before, or back from the DLQ (a redrive keeps the reason it went there): that attempt
    // may have reached 4biz, so tickets mode looks before writing again.
    const retried = (Number(record.attributes.ApproximateReceiveCount) || 1) > 1 || record.messageAttributes?.[FAILURE_REASON_ATTRIBUTE] !== undefined;
    const outcome = await dispatchInbound(message, {
      store,
      fourbiz,
      idleMinutes,
      clock,
      onOpened: (c) => {
        logger.info('conversation opened', { ...keys, conversationId: c.conversationId });
        metrics.addMetric(Metric.ConversationOpened, MetricUnit.Count, 1);
      },
      onClosed: (c) => {
        logger.info('idle conversation closed', { ...keys, conversationId: c.conversationId });
        metrics.addMetric(Metric.ConversationClosed, MetricUnit.Count, 1);
      },
    }, { retried });
    if (outcome.kind === 'duplicate') {
      logger.info('event already delivered: acknowledged without a second delivery', keys);
      metrics.addMetric(Metric.DuplicateSkipped, MetricUnit.Count, 1);
      return;
    }
    if (await circuit.succeeded(gate.circuit)) {
      logger.warn('4biz answers again: the outage is over, waiting DMs are delivered in order', keys);
      metrics.addMetric(Metric.FourbizOutageEnded, MetricUnit.Count, 1);
    }
    logger.info('DM delivered to 4biz', { ...keys, conversationId: outcome.conversation.conversationId, latencyMs: outcome.latencyMs });
    if (outcome.result.mediaFailures) logger.warn('DM media not attached: the link stays in the text', { ...keys, reasons: outcome.result.mediaFailures });
    metrics.addMetric(Metric.DeliveredTo4biz, MetricUnit.Count, 1);
    metrics.addMetric(Metric.FourbizLatency, MetricUnit.Milliseconds, outcome.latencyMs);
  }

  /**
   * A transient 4biz failure goes to the outage circuit: when 4biz fails for several people the
   * failure becomes an OutageWaitError (a wait, not an attempt). Any other failure stays as it is.
   */
  async function outageOr(err: unknown, xUserId: string, record: SQSRecord, keys: Record<string, unknown>): Promise<unknown> {
    if (!(err instanceof TransientError) || err instanceof WaitingError || err.retryAt !== undefined) return err;
    const { opened, waitSeconds } = await circuit.failed(xUserId, clock(), waitedFor(record));
    if (opened) {
      logger.error('4biz fails for several people: outage; DMs wait without spending attempts until a delivery succeeds', { ...keys, reason: err.message });
      metrics.addMetric(Metric.FourbizOutageStarted, MetricUnit.Count, 1);
    }
    if (waitSeconds === undefined) return err;
    metrics.addMetric(Metric.FourbizTransientError, MetricUnit.Count, 1);
    return new OutageWaitError(`4biz outage (${err.message}): the DM waits ${waitSeconds} s`, err.status, clock() + waitSeconds * 1000, { cause: err });
  }

  /** How long the record has been in the queue (SQS's SentTimestamp), undefined when it does not say. */
  function waitedFor(record: SQSRecord): number | undefined {
    const at = queuedAt(record);
    return at === undefined ? undefined : clock() - at;
  }

  /** The shared failure policy, fed with this DM's own attempts. */
  async function onFailure(record: SQSRecord, failure: unknown): Promise<FailureDecision> {
    const reason = (failure as Error)?.message ?? String(failure);
    if (failure instanceof InvalidQueueMessageError) {
      logger.error('invalid inbound message: moved to the DLQ', { messageId: record.messageId, reason });
      return { kind: 'dead-letter', reason };
    }
    const eventId = parseQueueBody(record.body, inboundMessageSchema);
    const chat = parseQueueBody(record.body, encryptedChatMessageSchema);
    const keys = { eventId: eventId.ok ? eventId.value.eventId : undefined, eventUuid: chat.ok ? chat.value.xchat.eventUuid : undefined, messageId: record.messageId };
    // An XChat message's attempts are counted by its delivery (it is decrypted anew on each attempt).
    const key = eventId.ok ? processedKey.inbound(eventId.value.eventId) : chat.ok ? processedKey.chat(`delivery-${chat.value.xchat.eventUuid}`) : undefined;
    const err = eventId.ok ? await outageOr(failure, eventId.value.sender.id, record, keys) : failure;
    const { decision, attempts } = await decideFromAttempts(store, key, err, policy, clock(), random, queuedAt(record));
    if (failure instanceof FourbizAuthError) {
      metrics.addMetric(Metric.FourbizAuthFailure, MetricUnit.Count, 1);
      logger.error('4biz refused the bridge\'s credentials: fix them; the DM is retried meanwhile', { ...keys, reason, status: failure.status, attempts });
    }
    if (err instanceof OutageWaitError) {
      logger.info('DM waits for 4biz to come back, without spending an attempt', { ...keys, reason, decision });
    } else if (err instanceof RequestFinishedError) {
      // Not a 4biz failure: the DM waits for the poller to close the finished request.
      logger.info('DM waits for the poller to close the finished 4biz request; it then opens the next one', { ...keys, reason, attempts, decision });
    } else if (err instanceof PermanentError) {
      logger.error('4biz refused the DM for good: moved to the DLQ', { ...keys, reason, status: err.status });
      metrics.addMetric(Metric.FourbizPermanentError, MetricUnit.Count, 1);
    } else if (err instanceof TransientError) {
      metrics.addMetric(Metric.FourbizTransientError, MetricUnit.Count, 1);
      logger.warn('4biz delivery failed', { ...keys, reason, status: err.status, attempts, decision });
    } else {
      logger.error('dispatching failed', { ...keys, error: reason, attempts, decision });
    }
    if (decision.kind === 'dead-letter' && !(err instanceof PermanentError)) {
      logger.error('DM failed all its attempts: moved to the DLQ', { ...keys, attempts, reason });
    }
    return decision;
  }

  const dispatcher = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const { response, handedBack } = await processFifoBatch(event, context, {
      handleRecord,
      onFailure,
      queue,
      canStart: () => context.getRemainingTimeInMillis() >= reserveMs,
      onQueueError: (what, e) => logger.warn(`could not set the ${what}: the message returns after the queue visibility timeout`, { error: (e as Error).message }),
    });
    if (handedBack > 0) logger.info('records handed back unattempted', { count: handedBack, remainingMs: context.getRemainingTimeInMillis() });
    return response;
  };

  return middy(dispatcher).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

export const handler = wireOnFirstCall('dispatcher', (config) => {
  const fourbizSettings = config.fourbiz;
  const secrets = secretSourceFor(secretOf(config));
  // Tickets mode attaches DM media; an OAuth 2.0 tenant's token refresh takes the table's lease.
  const media =
    fourbizSettings.mode === 'tickets'
      ? createXMediaDownloader(secrets, { baseUrl: config.xApiBaseUrl, timeoutMs: fourbizSettings.timeoutMs, leases: leaseStoreFor(config) })
      : undefined;
  return createDispatcherHandler({
    ...createObservability(config.tenant),
    store: conversationStoreFor(config),
    fourbiz: createFourbizClient(fourbizSettings, secrets, { media }),
    queue: sqsQueueControl(new SQSClient({}), {
      queueUrl: config.inboundQueueUrl,
      dlqUrl: config.inboundDlqUrl,
    }),
    circuit: createOutageCircuit(circuitStoreFor(config), {
      maxWaitMs: config.outageWaitHours * 3600_000,
      timing: config.localMode ? LOCAL_CIRCUIT_TIMING : undefined,
    }),
    idleMinutes: config.conversationIdleMinutes,
    backoff: retryOf(config),
    maxAttempts: config.maxAttempts,
    processedLifetimeSeconds: processedLifetimeSeconds(config.pollBackfillMinutes * 60),
    xchat: xchatSetup(config, secrets),
    reserveMs: fourbizCallsPerRecord(fourbizSettings.mode) * fourbizSettings.timeoutMs + RECORD_MARGIN_MS,
  });
});
