import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { readBody } from '../simulators/http';
import { lambdaContext } from './lambda-context';

/**
 * A local stand-in for API Gateway (HTTP API, payload format 2.0): turns requests into the events
 * the real crc and webhook handlers get in AWS (raw body, base64 when not text, lower-case headers,
 * queryStringParameters) and their results back into HTTP answers.
 */
type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2 | string | object | void>;

export interface GatewayRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  handler: HttpApiHandler;
  /** Lambda timeout given to the handler's context (getRemainingTimeInMillis). */
  timeoutMs?: number;
}

/** Plain HTTP endpoints next to the API routes (the local runner's inspection endpoints). */
export type ExtraEndpoint = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface HttpGatewayOptions {
  routes: GatewayRoute[];
  port?: number;
  host?: string;
  extra?: ExtraEndpoint;
  /** Told when a handler throws (the answer is then API Gateway's 500). */
  onError?: (routeKey: string, err: unknown) => void;
}

export interface HttpGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Host header values the gateway answers: loopback names only (localhost, *.localhost, 127.x,
 * [::1], with any port). A page on another site that rebinds its DNS name to 127.0.0.1 sends its
 * own name as Host, and gets nothing (DNS rebinding).
 */
const LOOPBACK_HOST = /^(localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}

const textTypes = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;


function toHttpApiEvent(req: IncomingMessage, body: Buffer, url: URL, routeKey: string): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies.push(...String(value).split(/;\s*/));
    else headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const hasQuery = url.searchParams.size > 0;
  const isText = textTypes.test(headers['content-type'] ?? 'application/octet-stream');
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    cookies: cookies.length ? cookies : undefined,
    headers,
    queryStringParameters: hasQuery ? query : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? body.toString(isText ? 'utf8' : 'base64') : undefined,
    isBase64Encoded: body.length > 0 && !isText,
  };
}

/** The HTTP API's rules for a handler's result: a structured result, or any value taken as a 200 JSON body. */
function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2 | string | object | void): void {
  const structured = typeof result === 'object' && result !== null && 'statusCode' in result ? (result as APIGatewayProxyStructuredResultV2) : undefined;
  if (!structured) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(result === undefined ? '' : typeof result === 'string' ? result : JSON.stringify(result));
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(structured.headers ?? {})) headers[k] = String(v);
  if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
  res.writeHead(structured.statusCode ?? 200, headers);
  const body = structured.body ?? '';
  res.end(structured.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}

export async function startHttpGateway(options: HttpGatewayOptions): Promise<HttpGateway> {
  const host = options.host ?? '127.0.0.1';
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!isLoopbackHost(req.headers.host)) {
      res.writeHead(421, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'this local bridge answers loopback Host names only (localhost, 127.0.0.1, [::1])' }));
      return;
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const route = options.routes.find((r) => r.method === req.method && r.path === url.pathname);
    if (!route) {
      if (options.extra && (await options.extra(req, res, url))) return;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Not Found' }));
      return;
    }
    const body = await readBody(req);
    const routeKey = `${route.method} ${route.path}`;
    const event = toHttpApiEvent(req, body, url, routeKey);
    try {
      writeResult(res, await route.handler(event, lambdaContext(routeKey.replace(/\W+/g, '-'), route.timeoutMs ?? 10_000)));
    } catch (err) {
      options.onError?.(routeKey, err);
      // What API Gateway answers when the integration fails.
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal Server Error' }));
    }
  };
  const server: Server = createServer((req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
