import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { lambdaContext as localLambdaContext } from '../../local/lambda-context';
import { WEBHOOK_PATH } from '../../functions/core/x-signature';

/** X's webhook fixtures (test/fixtures/README.md: shapes from X's public documentation) and their signatures. */
const dir = join(__dirname, '..', 'fixtures');

export const vectors = JSON.parse(readFileSync(join(dir, 'vectors.json'), 'utf8')) as {
  consumerSecret: string;
  crcToken: string;
  expectedResponseToken: string;
  signatures: Record<string, string>;
};

/** Every signed delivery: Account Activity API ones and X Activity API (`xaa-*`) ones. */
export const fixtureNames = Object.keys(vectors.signatures);
/** The Account Activity API deliveries (`for_user_id` at the root). */
export const aaaFixtureNames = fixtureNames.filter((name) => !name.startsWith('xaa-'));

export function fixtureBytes(name: string): Buffer {
  return readFileSync(join(dir, name));
}

/**
 * A day after the fixtures' DMs were sent (25 November 2024): the clock of a webhook receiving
 * them, or DMs dated up to a day later, from X.
 */
export const fixtureClock = () => 1_732_586_400_000;

/** The company account of every fixture (`for_user_id`). */
export const fixtureAccountId = '1400000000000000001';

export const testSecret = {
  consumerKey: 'fixture-consumer-key',
  consumerSecret: vectors.consumerSecret,
  accessToken: 'fixture-access-token',
  accessTokenSecret: 'fixture-access-token-secret',
};

/** An API Gateway HTTP API (payload v2) event as the webhook route receives it. */
export function httpEvent(opts: {
  method?: 'GET' | 'POST';
  body?: Buffer;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  base64?: boolean;
}): APIGatewayProxyEventV2 {
  const method = opts.method ?? 'POST';
  const base64 = opts.base64 ?? false;
  return {
    version: '2.0',
    routeKey: `${method} /webhooks/twitter`,
    rawPath: WEBHOOK_PATH,
    rawQueryString: new URLSearchParams(opts.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', ...(opts.headers ?? {}) },
    queryStringParameters: opts.query,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'example.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'example',
      http: { method, path: WEBHOOK_PATH, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'req',
      routeKey: `${method} /webhooks/twitter`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: opts.body === undefined ? undefined : opts.body.toString(base64 ? 'base64' : 'utf8'),
    isBase64Encoded: base64,
  };
}

/** A handler's Lambda context in unit tests: a stopped clock keeps 30 s remaining, however long the test runs. */
export const lambdaContext = localLambdaContext('test', 30_000, () => 0);
