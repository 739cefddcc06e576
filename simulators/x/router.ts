import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback, readBody } from '../http';
import { type FailureScript, failureAnswer } from './failures';
import type { OAuth } from './oauth';
import type { Route, RouteAnswer, RouteContext } from './route';
import { errorBody, HttpProblem, invalidRequest, rateLimited } from './problems';

/**
 * The simulator's HTTP server: finds the route, checks authentication, plays scripted failures,
 * counts X's rate-limit windows (with `x-rate-limit-*` headers on every answer), parses the JSON
 * body and turns thrown HttpProblems into X's error answers. Each API family (webhooks.ts, dms.ts…)
 * contributes its routes; a new family adds its own.
 */

export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

interface RecordedRequest {
  method: string;
  path: string;
  status: number;
}

export interface RouterOptions {
  oauth: OAuth;
  failures: FailureScript;
  limitOf(routeName: string): RateLimit;
  requests: RecordedRequest[];
  /** Called for every answer sent (the answer log and the billing meter listen). */
  onAnswer?(answer: SentAnswer): void;
}

/** An answer as it went out: the route X names (none for an unknown path), status and JSON body, or the content type of bytes (media). */
export interface SentAnswer {
  route?: string;
  status: number;
  body?: unknown;
  contentType?: string;
}

const apiKinds = new Set(['dm', 'management', 'dm-lookup']);

export function createRouter(opts: RouterOptions) {
  const routes: Route[] = [];
  /** One window per endpoint and caller (user for user context, the app otherwise), as X counts. */
  const windows = new Map<string, { resetAt: number; used: number }>();
  /** Calls held by a scripted hang, released when the server closes. */
  const hanging = new Set<ServerResponse>();

  function rateWindow(key: string, rate: RateLimit): { resetAt: number; used: number } {
    const nowSeconds = Math.floor(Date.now() / 1000);
    let window = windows.get(key);
    if (!window || nowSeconds >= window.resetAt) {
      window = { resetAt: nowSeconds + rate.windowSeconds, used: 0 };
      windows.set(key, window);
    }
    return window;
  }

  function match(method: string, pathname: string): { route: Route; params: string[] } | undefined {
    for (const route of routes) {
      const m = route.method === method ? route.pattern.exec(pathname) : null;
      if (m) return { route, params: m.slice(1).map(decodeURIComponent) };
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const raw = await readBody(req);
    let headers: Record<string, string> = {};
    const found = match(req.method ?? 'GET', url.pathname);
    const routeName = found?.route.name;
    const send = (answer: RouteAnswer) => {
      opts.requests.push({ method: req.method ?? 'GET', path: url.pathname, status: answer.status });
      opts.onAnswer?.({ route: routeName, status: answer.status, ...('bytes' in answer ? { contentType: answer.contentType } : { body: answer.body }) });
      if ('bytes' in answer) {
        res.writeHead(answer.status, { ...headers, 'content-type': answer.contentType, 'content-length': String(answer.bytes.length) });
        return void res.end(answer.bytes);
      }
      res.writeHead(answer.status, { ...headers, ...answer.headers, ...(answer.body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }) });
      res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
    };

    if (!found) return send({ status: 404, body: errorBody(404, `No route for ${req.method} ${url.pathname}`) });
    const { route, params } = found;

    const authError = opts.oauth.problem(req, url, route.auth);
    if (authError) return send({ status: 401, body: errorBody(401, authError) });
    const { caller, userAuth } = opts.oauth.callerOf(req);
    const ctx: RouteContext = { params, body: undefined, raw, url, req, auth: caller, userAuth };

    let rate: RateLimit | undefined;
    let window: { resetAt: number; used: number } | undefined;
    if (route.rateLimited !== false) {
      rate = opts.limitOf(route.name);
      window = rateWindow(`${route.name} ${caller}`, rate);
      headers = { 'x-rate-limit-limit': String(rate.limit), 'x-rate-limit-remaining': String(Math.max(0, rate.limit - window.used)), 'x-rate-limit-reset': String(window.resetAt) };
    }

    const scripted = opts.failures.take(route, apiKinds.has(route.kind));
    if (scripted && 'hang' in scripted) {
      if (scripted.ms === undefined) return void hanging.add(res);
      await new Promise((r) => setTimeout(r, scripted.ms));
    }
    const early = scripted && failureAnswer(scripted);
    if (early) return send(early);

    if (rate && window) {
      if (window.used >= rate.limit) return send({ status: 429, body: rateLimited, headers: { 'x-rate-limit-remaining': '0' } });
      window.used += 1;
      headers['x-rate-limit-remaining'] = String(Math.max(0, rate.limit - window.used));
    }

    if (route.body !== 'raw' && raw.length) {
      try {
        ctx.body = JSON.parse(raw.toString('utf8'));
      } catch {
        return send({ status: 400, body: invalidRequest('Request body is not valid JSON').body });
      }
    }
    let answer: RouteAnswer;
    try {
      answer = await route.handle(ctx);
    } catch (err) {
      answer = err instanceof HttpProblem ? { status: err.status, body: err.body, headers: err.headers } : { status: 500, body: errorBody(500, (err as Error).message) };
    }
    if (scripted && 'afterHandling' in scripted) return send({ status: scripted.status, body: errorBody(scripted.status) });
    return send(answer);
  }

  return {
    add(...more: Route[]) {
      routes.push(...more);
    },
    async listen() {
      const { server, port } = await listenOnLoopback(handle);
      return {
        port,
        close: () =>
          new Promise<void>((resolve) => {
            for (const res of hanging) res.destroy();
            hanging.clear();
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    },
    reset() {
      windows.clear();
    },
  };
}
