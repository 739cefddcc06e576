import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { header, json, rawBody } from '../core/http-event';
import { PermanentError, SecretNotFilledError } from '../core/errors';
import { Metric } from '../core/metric-names';
import { readDelivery, type DeliveryVerdict } from '../core/webhook-delivery';
import type { DeliveryNotice } from '../core/xaa-events';
import { consumerSecretOf } from '../config';
import { sqsInboundQueue } from '../adapters/inbound-queue';
import { dynamoRefusedDeliveryLog } from '../adapters/webhook-health-store';
import { dynamoInboundParking } from '../adapters/inbound-parking';
import { consumerSecretSourceFor, type ConsumerSecretSource } from '../adapters/secrets';
import { createObservability, type Observability } from '../observability';
import { wireOnFirstCall } from '../wiring';
import type { ChatQueue, InboundParking, InboundQueue, RefusedDeliveryLog } from '../core/ports';
import type { InboundMessage } from '../core/x-events';
import type { EncryptedChatMessage } from '../core/xchat';
import { SIGNATURE_HEADER } from '../core/x-signature';
import { PROCESSED_EVENT_LIFETIME_SECONDS } from '../core/processed-key';

export interface WebhookDeps extends Observability<'webhook'> {
  /** The consumer secret alone: the webhook may not read the tenant secret. */
  secrets: ConsumerSecretSource;
  queue: InboundQueue;
  /** Where DMs the queue refused are kept (the tenant's table), so a signed delivery with DMs is not lost. */
  parking: InboundParking;
  /** The tenant's X account (tenant file `xAccountId`): deliveries for another account are dropped. */
  xAccountId: string;
  /** XChat on (tenant `x.xchat`): chat.received is queued encrypted here, opened by the dispatcher. */
  chats?: ChatQueue;
  /** Where refused signed deliveries are recorded, for webhook health to ask X to replay them (deployed and locally; tests that refuse nothing leave it out). */
  refusals?: RefusedDeliveryLog;
  /** Injected for deterministic tests. */
  clock?: () => number;
}

/** After a signature mismatch the secret is read again (it may have been rotated), at most this often. */
export const SECRET_REREAD_INTERVAL_MS = 60_000;

/**
 * POST /webhooks/twitter: verify → parse → normalise → enqueue. 200 only once the queue accepted
 * (or the table parked) every inbound message; 5xx otherwise so that X delivers again (the FIFO
 * dedup id absorbs repeats).
 */
export function createWebhookHandler(deps: WebhookDeps) {
  const { logger, metrics, secrets, queue, parking, xAccountId } = deps;
  const clock = deps.clock ?? Date.now;
  let lastReread = -Infinity;

  /**
   * Verifies with the cached secret; on a signature mismatch reads the secret again (at most once
   * a minute, so forged requests cannot hammer Secrets Manager) and verifies once more, so a
   * consumer-secret rotation does not turn X's deliveries away until the container is recycled.
   */
  async function verify(body: Buffer, signature: string | undefined): Promise<DeliveryVerdict> {
    const read = async () =>
      readDelivery(
        { consumerSecret: (await secrets.get()).consumerSecret, accountId: xAccountId, receivedAtMs: clock(), xchat: deps.chats !== undefined, maxAgeMs: PROCESSED_EVENT_LIFETIME_SECONDS * 1000 },
        body,
        signature,
      );
    const verdict = await read();
    if (verdict.accepted || verdict.status !== 401 || !signature || clock() - lastReread < SECRET_REREAD_INTERVAL_MS) return verdict;
    lastReread = clock();
    secrets.invalidate();
    const again = await read();
    if (again.accepted || again.status !== 401) logger.info('the consumer secret changed: deliveries verify with the new one');
    return again;
  }

  /** Webhook health asks X to replay the refusal's minutes; if the record fails, WebhookRejected still alarms. */
  async function recordRefusal(): Promise<void> {
    try {
      await deps.refusals?.record(clock());
    } catch (err) {
      logger.error('could not record the refused delivery for a replay: npm run x -- replay covers it', { error: (err as Error).message });
    }
  }

  /** A signed delivery that carries nothing to forward: logged and counted, answered 200. */
  const report = (notice: DeliveryNotice) => {
    switch (notice.kind) {
      case 'foreign-account':
        logger.warn('dropped a delivery for another X account', { eventType: notice.eventType, xUserId: notice.userId });
        return metrics.addMetric(Metric.ForeignAccountDropped, MetricUnit.Count, 1);
      case 'encrypted-dm':
        // XChat messages are end-to-end encrypted: the bridge cannot read them (README, "Encrypted DMs").
        logger.warn('encrypted XChat message received: the bridge cannot read it', { xUserId: notice.senderId, eventUuid: notice.eventUuid });
        return metrics.addMetric(Metric.EncryptedDmReceived, MetricUnit.Count, 1);
      case 'xchat-invalid':
        logger.error('XChat message dropped: X\'s chat.received cannot be read', { eventUuid: notice.eventUuid, reason: notice.reason });
        return metrics.addMetric(Metric.XChatDropped, MetricUnit.Count, 1);
      case 'access-revoked':
        logger.error('the company X account revoked the app: no DMs arrive until it authorises the app again', { xUserId: notice.userId });
        return metrics.addMetric(Metric.XAccessRevoked, MetricUnit.Count, 1);
      case 'replay-job':
        logger.info('X replay job finished', { jobId: notice.jobId, jobState: notice.state, description: notice.description });
        return metrics.addMetric(Metric.EventIgnored, MetricUnit.Count, 1);
      case 'ignored':
        logger.info('ignored an X Activity API event', { eventType: notice.eventType });
        return metrics.addMetric(Metric.EventIgnored, MetricUnit.Count, 1);
    }
  };

  /** An encrypted XChat message: queued as it came; 5xx when the queue refuses, so X delivers again. */
  async function queueChat(chat: EncryptedChatMessage): Promise<APIGatewayProxyStructuredResultV2> {
    const keys = { xUserId: chat.xchat.senderId, eventUuid: chat.xchat.eventUuid };
    try {
      await deps.chats!.sendChat(chat);
    } catch (err) {
      logger.error('inbound queue did not accept the XChat message; X will retry', { ...keys, error: (err as Error).message });
      metrics.addMetric(Metric.EnqueueFailed, MetricUnit.Count, 1);
      return json(503, { error: 'queue unavailable, retry later' });
    }
    logger.info('XChat message accepted (encrypted)', keys);
    metrics.addMetric(Metric.DmReceived, MetricUnit.Count, 1);
    return json(200, { accepted: 1 });
  }

  /**
   * The queue refused the DMs: kept in the tenant's table (200, X need not send them again) until
   * an operator requeues them; 503 when the table refuses too, so that X delivers again.
   */
  async function park(messages: InboundMessage[]): Promise<APIGatewayProxyStructuredResultV2> {
    const eventIds = messages.map((m) => m.eventId);
    let parked: number;
    try {
      parked = await parking.park(messages);
    } catch (err) {
      logger.error('could not park the DMs the queue refused either; X will retry', { error: (err as Error).message, eventIds });
      return json(503, { error: 'queue unavailable, retry later' });
    }
    logger.warn('DMs parked in the table: requeue them with npm run dlq -- parked --requeue', { eventIds, parked });
    if (parked > 0) metrics.addMetric(Metric.InboundParked, MetricUnit.Count, parked);
    return json(200, { accepted: messages.length, parked: messages.length });
  }

  const webhook = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    let verdict: DeliveryVerdict;
    try {
      verdict = await verify(rawBody(event), header(event, SIGNATURE_HEADER));
    } catch (err) {
      logger.error('cannot read the tenant secret to verify a delivery', { error: (err as Error).message });
      metrics.addMetric(err instanceof SecretNotFilledError ? Metric.SecretNotFilled : Metric.SecretUnavailable, MetricUnit.Count, 1);
      return json(503, { error: 'secret unavailable' });
    }
    if (!verdict.accepted) {
      // A 401 is not X's (anyone can send one); any other refusal may lose what X sent: WebhookRejected alarms.
      const signed = verdict.status !== 401;
      logger.warn(signed ? 'delivery rejected: X will not send it again' : 'delivery without a valid signature rejected', { status: verdict.status, reason: verdict.reason });
      metrics.addMetric(signed ? Metric.WebhookRejected : Metric.WebhookUnauthenticated, MetricUnit.Count, 1);
      if (signed) await recordRefusal();
      return json(verdict.status, { error: verdict.reason });
    }

    if (verdict.notice) report(verdict.notice);
    if (verdict.chat) return queueChat(verdict.chat);
    const { messages, skipped, ignoredKinds } = verdict.delivery;
    for (const s of skipped) {
      if (s.reason === 'too-old') {
        // Its processed record has expired, so a repeat would reach 4biz again: a replayed capture, not X's redelivery.
        logger.warn('dropped a DM older than the processed-record lifetime (a delivery sent again long after): not forwarded', { eventId: s.eventId });
        metrics.addMetric(Metric.OldDmDropped, MetricUnit.Count, 1);
        continue;
      }
      logger.info(s.reason === 'echo' ? 'dropped our own echoed DM' : 'ignored a non-message DM event', { eventId: s.eventId });
      metrics.addMetric(s.reason === 'echo' ? Metric.EchoDropped : Metric.EventIgnored, MetricUnit.Count, 1);
    }
    if (ignoredKinds.length > 0) {
      logger.info('ignored non-DM events', { kinds: ignoredKinds });
      metrics.addMetric(Metric.EventIgnored, MetricUnit.Count, ignoredKinds.length);
    }
    if (messages.length === 0) return json(200, { accepted: 0 });

    try {
      await queue.send(messages);
    } catch (err) {
      // Never a 4xx for a signed delivery with DMs (X does not retry one). A DM over SQS's size
      // cannot come from a delivery under MAX_BODY_BYTES (its body holds the text once, without
      // escapes), so a refusal is the queue's: EnqueueFailed pages someone, the DMs are parked.
      logger.error('inbound queue did not accept the delivery; parking its DMs', {
        error: (err as Error).message,
        permanent: err instanceof PermanentError,
        eventIds: messages.map((m) => m.eventId),
      });
      metrics.addMetric(Metric.EnqueueFailed, MetricUnit.Count, messages.length);
      return park(messages);
    }
    for (const m of messages) logger.info('DM accepted', { eventId: m.eventId, xUserId: m.sender.id });
    logger.debug('DM texts', { texts: messages.map((m) => m.text) });
    metrics.addMetric(Metric.DmReceived, MetricUnit.Count, messages.length);
    return json(200, { accepted: messages.length });
  };

  return middy(webhook).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

export const handler = wireOnFirstCall('webhook', (config) => {
  const queue = sqsInboundQueue(new SQSClient({}), config.inboundQueueUrl);
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  return createWebhookHandler({
    ...createObservability(config.tenant),
    secrets: consumerSecretSourceFor(consumerSecretOf(config)),
    queue,
    refusals: dynamoRefusedDeliveryLog(doc, config.tableName),
    parking: dynamoInboundParking(doc, config.tableName),
    chats: config.xchat ? queue : undefined,
    xAccountId: config.xAccountId,
  });
});
