import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback, readBody } from '../../local/http';

/**
 * A 4biz REST ("Citrest") server speaking the contract in docs/4biz-api.md, for the tickets-mode
 * tests and `npm start`: login sessions (expirable on command), requests with a status and a
 * solution, occurrences with their author, and switches to be down or fail the next calls.
 */
export interface SimOccurrence {
  id: number;
  numberOrigin?: string;
  description: string;
  date: string;
  hour: string;
  category?: string;
  reason?: string;
  registeredBy: { id: number; login: string; name: string };
}

export interface SimRequest {
  number: number;
  numberOrigin: string;
  status: string;
  solution?: string;
  /** The request/create body's `sourceRequest`, as received. */
  source: Record<string, unknown>;
  occurrences: SimOccurrence[];
}

export interface SimCall {
  path: string;
  body: Record<string, unknown>;
  /** The HTTP status the simulator answered. */
  status: number;
  /** The Citrest error code answered, if any. */
  errorCode?: string;
}

export interface FourBizSimulatorOptions {
  userName?: string;
  password?: string;
}

export interface FourBizSimulator {
  /** The base URL to put in the tenant settings (`…/4biz`; the services live under /services). */
  readonly baseUrl: string;
  readonly userName: string;
  readonly password: string;
  readonly calls: SimCall[];
  readonly requests: SimRequest[];
  /** Successful logins so far. */
  logins(): number;
  /** Calls to one service path (e.g. `/services/request/createOccurrence`) that 4biz accepted. */
  accepted(path: string): SimCall[];
  requestByOrigin(numberOrigin: string): SimRequest | undefined;
  request(number: string | number): SimRequest;
  /** Every session issued so far becomes invalid (as after a 4biz restart or a session timeout). */
  expireSessions(): void;
  /** While down, every call answers 503 with a maintenance page. */
  setDown(down: boolean): void;
  /** The next `count` calls answer `status` (default 500). */
  failNext(count: number, status?: number): void;
  /** An agent writes on the request (as 4biz's agent screen does). */
  addAgentOccurrence(requestNumber: string | number, description: string, agent?: { login: string; name: string }): SimOccurrence;
  /** The request reaches a final status with a solution text. */
  resolve(requestNumber: string | number, solution: string, status?: 'Resolvida' | 'Fechada' | 'Cancelada'): void;
  close(): Promise<void>;
}

const P = '/4biz/services';

export async function startFourBizSimulator(opts: FourBizSimulatorOptions = {}): Promise<FourBizSimulator> {
  const userName = opts.userName ?? 'integracao.x';
  const password = opts.password ?? 'integracao-secret';
  const sessions = new Set<string>();
  const requests: SimRequest[] = [];
  const calls: SimCall[] = [];
  let loginCount = 0;
  let nextRequest = 4000;
  let nextOccurrence = 90_000;
  let nextOperation = 1;
  let down = false;
  let failing = { count: 0, status: 500 };

  const find = (n: unknown) => requests.find((r) => String(r.number) === String(n));
  const mustFind = (n: string | number) => {
    const r = find(n);
    if (!r) throw new Error(`simulator has no request ${n}`);
    return r;
  };
  const stamp = () => {
    const d = new Date();
    return { date: d.toISOString().slice(0, 10), hour: d.toISOString().slice(11, 16) };
  };

  function answer(res: ServerResponse, call: SimCall, status: number, body: Record<string, unknown>): void {
    call.status = status;
    const error = body.error as { code?: string } | null | undefined;
    call.errorCode = error?.code;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ dateTime: Date.now(), operationID: nextOperation++, error: null, ...body }));
  }
  const fail = (res: ServerResponse, call: SimCall, code: string, description: string, status = 200) =>
    answer(res, call, status, { error: { code, description } });

  function route(path: string, body: Record<string, unknown>, res: ServerResponse, call: SimCall): void {
    if (path === `${P}/login`) {
      if (body.userName !== userName || body.password !== password || typeof body.platform !== 'string') {
        return fail(res, call, 'LOGIN_FAILED', 'Usuário ou senha inválidos');
      }
      const id = randomUUID().replace(/-/g, '');
      sessions.add(id);
      loginCount++;
      return answer(res, call, 200, { SessionID: id });
    }
    if (typeof body.sessionID !== 'string' || !sessions.has(body.sessionID)) {
      return fail(res, call, 'INVALID_SESSION', 'Sessão inválida ou expirada');
    }
    switch (path) {
      case `${P}/request/create`: {
        const src = body.sourceRequest as Record<string, unknown> | undefined;
        const required = ['contractID', 'activityID', 'groupID', 'unitID', 'originID'];
        if (
          !src ||
          typeof src.numberOrigin !== 'string' ||
          !src.numberOrigin ||
          src.type !== 'R' ||
          typeof src.description !== 'string' ||
          required.some((k) => typeof src[k] !== 'number')
        ) {
          return fail(res, call, 'INVALID_REQUEST', 'sourceRequest incompleto', 400);
        }
        const existing = requests.find((r) => r.numberOrigin === src.numberOrigin);
        if (existing) return answer(res, call, 200, { number: existing.number });
        const created: SimRequest = { number: nextRequest++, numberOrigin: src.numberOrigin, status: 'Em andamento', source: src, occurrences: [] };
        requests.push(created);
        return answer(res, call, 200, { number: created.number });
      }
      case `${P}/request/createOccurrence`: {
        const request = find(body.requestNumber);
        if (!request) return fail(res, call, 'REQUEST_NOT_FOUND', `Solicitação ${String(body.requestNumber)} não encontrada`);
        const o = body.occurrence as Record<string, unknown> | undefined;
        if (!o || typeof o.description !== 'string' || typeof o.numberOrigin !== 'string' || !/^\d{2}:\d{2}$/.test(String(o.hour))) {
          return fail(res, call, 'INVALID_OCCURRENCE', 'occurrence incompleta', 400);
        }
        const again = request.occurrences.find((x) => x.numberOrigin === o.numberOrigin);
        if (again) return answer(res, call, 200, { occurrence: { id: again.id } });
        const created: SimOccurrence = {
          id: nextOccurrence++,
          numberOrigin: o.numberOrigin,
          description: o.description,
          date: String(o.date),
          hour: String(o.hour),
          category: typeof o.category === 'string' ? o.category : undefined,
          reason: typeof o.reason === 'string' ? o.reason : undefined,
          registeredBy: { id: 501, login: userName, name: 'Integração X' },
        };
        request.occurrences.push(created);
        return answer(res, call, 200, { occurrence: { id: created.id } });
      }
      case `${P}/request/getById`: {
        const request = find(body.number);
        if (!request) return fail(res, call, 'REQUEST_NOT_FOUND', `Solicitação ${String(body.number)} não encontrada`);
        return answer(res, call, 200, {
          request: { number: request.number, numberOrigin: request.numberOrigin, status: request.status, solution: request.solution ?? null },
        });
      }
      case `${P}/request/listOccurrences`: {
        const request = find(body.requestNumber);
        if (!request) return fail(res, call, 'REQUEST_NOT_FOUND', `Solicitação ${String(body.requestNumber)} não encontrada`);
        return answer(res, call, 200, { occurrences: request.occurrences });
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        call.status = 404;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      body = {};
    }
    const call: SimCall = { path: path.replace(/^\/4biz/, ''), body, status: 0 };
    calls.push(call);
    if (down || failing.count > 0) {
      const status = down ? 503 : failing.status;
      if (!down) failing = { ...failing, count: failing.count - 1 };
      call.status = status;
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end('<html><body>Serviço em manutenção</body></html>');
      return;
    }
    if (req.method !== 'POST') {
      call.status = 405;
      res.writeHead(405).end();
      return;
    }
    route(path, body, res, call);
  }

  const { server, port } = await listenOnLoopback(handle);

  return {
    baseUrl: `http://127.0.0.1:${port}/4biz`,
    userName,
    password,
    calls,
    requests,
    logins: () => loginCount,
    accepted: (path) => calls.filter((c) => c.path === path && c.status === 200 && !c.errorCode),
    requestByOrigin: (numberOrigin) => requests.find((r) => r.numberOrigin === numberOrigin),
    request: mustFind,
    expireSessions: () => sessions.clear(),
    setDown(value) {
      down = value;
    },
    failNext(count, status = 500) {
      failing = { count, status };
    },
    addAgentOccurrence(requestNumber, description, agent = { login: 'agente.ana', name: 'Ana Atendente' }) {
      const request = mustFind(requestNumber);
      const o: SimOccurrence = { id: nextOccurrence++, description, ...stamp(), category: 'Atendimento', registeredBy: { id: 777, ...agent } };
      request.occurrences.push(o);
      return o;
    },
    resolve(requestNumber, solution, status = 'Resolvida') {
      const request = mustFind(requestNumber);
      request.status = status;
      request.solution = solution;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
