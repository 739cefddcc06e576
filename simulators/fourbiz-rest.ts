import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback, readBody } from './http';

/**
 * A 4biz REST ("Citrest") server answering as 4biz's public webservice documentation describes
 * (docs/4biz-api.md: the public sources, and which parts are documented and which are our
 * inference), for the tickets-mode tests and `npm start`:
 * - `POST /services/login` → `SessionID`; an unknown or expired session is HTTP 412, code `SESSION`;
 * - `request/create` rejects a `numberOrigin` it has seen; answers carry `number` and `status {code, name}`
 *   at the top level; `request/getById` takes `number` or `numberOrigin`;
 * - `request/createOccurrence` (`occurrence` or `ocurrence`; no de-duplication: none is documented) →
 *   `number`, `userID` (the logged-in user); `request/listOccurrences` → the collection;
 * - `webmvc/services/request/addAttachments` stores base64 `content`; a missing field is HTTP 500.
 * Switches for tests: sessions expiring every N calls, a call stored but answered after a delay,
 * being down, failing the next calls (status and/or error code), answering a redirect, answering
 * with a huge body.
 */
interface SimStatus {
  code: string;
  name: string;
}

interface SimOccurrence {
  number: number;
  numberOrigin?: string;
  description: string;
  date: string;
  hour: string;
  category?: string;
  reason?: string;
  origin: string;
  /** Who registered it: the logged-in user (the integration user) or an agent. */
  userID: string;
}

interface SimAttachment {
  name: string;
  extension: string;
  bytes: Buffer;
}

interface SimRequest {
  number: number;
  numberOrigin: string;
  status: SimStatus;
  /** Not in the documented getById answer; sent only when a test sets one (see resolve). */
  solution?: string;
  /** The request/create body's `sourceRequest`, as received. */
  source: Record<string, unknown>;
  occurrences: SimOccurrence[];
  attachments: SimAttachment[];
}

interface SimCall {
  path: string;
  body: Record<string, unknown>;
  /** The HTTP status the simulator answered. */
  status: number;
  /** The Citrest error code answered, if any. */
  errorCode?: string;
}

export type OccurrenceListShape = 'occurrences' | 'ocurrences' | 'array';

export interface FourbizSimulatorOptions {
  userName?: string;
  password?: string;
  /** Where listOccurrences puts the collection (its name is not documented). Default `occurrences`. */
  listShape?: OccurrenceListShape;
}

export interface FourbizSimulator {
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
  /** From now on each session dies after `calls` calls (0: never). */
  expireSessionsEvery(calls: number): void;
  /** While down, every call answers 503 with a maintenance page. */
  setDown(down: boolean): void;
  /** The next `count` calls answer `status` (default 500): with a CtError `code` when given, else a maintenance page. */
  failNext(count: number, status?: number, code?: string): void;
  /** The next `count` calls answer a 302 to `location`. */
  redirectNext(count: number, location: string): void;
  /** The next call to `path` is applied, but answered only after `delayMs` (a client timeout sees a failure). */
  answerLate(path: string, delayMs: number): void;
  /**
   * The next call to `path` is applied, but answered with a well-formed JSON body of `bytes` bytes
   * (a padded occurrence list), streamed in chunks without a Content-Length unless `declare`: the
   * simulator never holds it whole. `huge.written` says how much of it left before the client hung up.
   */
  answerHuge(path: string, bytes: number, opts?: { declare?: boolean }): void;
  readonly huge: { written: number; total: number };
  /** Takes the next occurrence number now (an agent occurrence that becomes visible later). */
  reserveOccurrenceNumber(): number;
  /** An agent writes on the request (as 4biz's agent screen does); category `Retorno` unless given (null: none). */
  addAgentOccurrence(requestNumber: string | number, description: string, opts?: { agent?: string; number?: number; category?: string | null }): SimOccurrence;
  /** The request reaches a final status; `solution` is sent in getById only when given. */
  resolve(requestNumber: string | number, solution?: string, status?: 'Resolvida' | 'Fechada' | 'Cancelada'): void;
  close(): Promise<void>;
}

const P = '/4biz/services';
const ATTACHMENTS = '/4biz/webmvc/services/request/addAttachments';

const STATUS_NAMES: Record<string, string> = { EmAndamento: 'Em andamento', Resolvida: 'Resolvida', Fechada: 'Fechada', Cancelada: 'Cancelada' };
const LEVELS = new Set(['H', 'M', 'L']);

export async function startFourbizSimulator(opts: FourbizSimulatorOptions = {}): Promise<FourbizSimulator> {
  const userName = opts.userName ?? 'integracao.x';
  const password = opts.password ?? 'integracao-secret';
  const listShape = opts.listShape ?? 'occurrences';
  /** session id → calls left (Infinity: no limit). */
  const sessions = new Map<string, number>();
  const requesters = new Set<string>();
  const requests: SimRequest[] = [];
  const calls: SimCall[] = [];
  let loginCount = 0;
  let sessionCalls = 0;
  let nextRequest = 4000;
  let nextOccurrence = 90_000;
  let nextOperation = 1;
  let down = false;
  let failing: { count: number; status: number; code?: string } = { count: 0, status: 500 };
  let redirecting = { count: 0, location: '' };
  const late = new Map<string, number>();
  const hugeNext = new Map<string, { bytes: number; declare: boolean }>();
  const huge = { written: 0, total: 0 };

  const find = (n: unknown) => requests.find((r) => String(r.number) === String(n));
  const byOrigin = (o: unknown) => requests.find((r) => r.numberOrigin === o);
  const mustFind = (n: string | number) => {
    const r = find(n);
    if (!r) throw new Error(`simulator has no request ${n}`);
    return r;
  };
  const stamp = () => {
    const d = new Date();
    return { date: d.toISOString().slice(0, 10), hour: d.toISOString().slice(11, 16) };
  };
  const status = (code: string): SimStatus => ({ code, name: STATUS_NAMES[code] ?? code });

  /** Every answer: the call's attributes plus the date/time and an operation id (also on error). */
  function answer(res: ServerResponse, call: SimCall, httpStatus: number, body: unknown): void {
    call.status = httpStatus;
    const error = (body as { error?: { code?: string } } | undefined)?.error;
    call.errorCode = error?.code;
    res.writeHead(httpStatus, { 'content-type': 'application/json' });
    const out = Array.isArray(body) ? body : { dateTime: Date.now(), operationID: nextOperation++, error: null, ...(body as object) };
    res.end(JSON.stringify(out));
  }
  const fail = (res: ServerResponse, call: SimCall, code: string, description: string, httpStatus = 200) =>
    answer(res, call, httpStatus, { error: { code, description } });

  const requestView = (r: SimRequest) => ({
    ...r.source,
    number: r.number,
    numberOrigin: r.numberOrigin,
    status: r.status,
    startSLA: null,
    endSLA: null,
    currentTask: { number: r.number * 10, name: 'Atender solicitação', status: status('EmAndamento') },
    userId: r.source.userID,
    groupId: r.source.groupId ?? null,
    ...(r.solution !== undefined ? { solution: r.solution } : {}),
  });

  /** Applies the call; returns the answer to send (status and body). */
  function route(path: string, body: Record<string, unknown>): { status: number; body: unknown } {
    const error = (code: string, description: string, s = 200) => ({ status: s, body: { error: { code, description } } });
    switch (path) {
      case `${P}/request/create`: {
        const src = body.sourceRequest as Record<string, unknown> | undefined;
        if (!src || typeof src.numberOrigin !== 'string' || !src.numberOrigin) return error('PARAM', 'numberOrigin é obrigatório');
        if (src.type !== 'R' && src.type !== 'I') return error('PARAM', 'type deve ser I ou R');
        if (typeof src.description !== 'string' || !src.description) return error('PARAM', 'description é obrigatória');
        if (typeof src.userID !== 'string' || !src.userID) return error('PARAM', 'userID é obrigatório');
        const contact = src.contact as { name?: unknown } | undefined;
        if (!requesters.has(src.userID) && (typeof contact?.name !== 'string' || !contact.name)) return error('PARAM', 'contact é obrigatório para um solicitante novo');
        for (const k of ['urgency', 'impact']) if (src[k] !== undefined && !LEVELS.has(String(src[k]))) return error('PARAM', `${k} deve ser H, M ou L`);
        if (src.groupId !== undefined && typeof src.groupId !== 'string') return error('PARAM', 'groupId é a sigla do grupo');
        if (src.contractID !== undefined && typeof src.contractID !== 'number') return error('PARAM', 'contractID inválido');
        // A numberOrigin 4biz has already received is rejected (public webservice examples).
        if (byOrigin(src.numberOrigin)) return error('PARAM', `numberOrigin ${src.numberOrigin} já foi recebido`);
        if (body.synchronize === true) requesters.add(src.userID);
        const created: SimRequest = { number: nextRequest++, numberOrigin: src.numberOrigin, status: status('EmAndamento'), source: src, occurrences: [], attachments: [] };
        requests.push(created);
        return { status: 200, body: requestView(created) };
      }
      case `${P}/request/getById`: {
        const request = body.number !== undefined ? find(body.number) : byOrigin(body.numberOrigin);
        if (!request) return error('PARAM', 'Solicitação não encontrada');
        return { status: 200, body: requestView(request) };
      }
      case `${P}/request/createOccurrence`: {
        const request = body.requestNumber !== undefined ? find(body.requestNumber) : byOrigin(body.requestNumberOrigin);
        if (!request) return error('PARAM', 'Solicitação não encontrada');
        const o = (body.occurrence ?? body.ocurrence) as Record<string, unknown> | undefined;
        if (!o || typeof o.description !== 'string' || !/^\d{2}:\d{2}$/.test(String(o.hour)) || !/^\d{4}-\d{2}-\d{2}$/.test(String(o.date))) {
          return error('INPUT', 'ocorrência incompleta');
        }
        const created: SimOccurrence = {
          number: nextOccurrence++,
          numberOrigin: typeof o.numberOrigin === 'string' ? o.numberOrigin : undefined,
          description: o.description,
          date: String(o.date),
          hour: String(o.hour),
          category: typeof o.category === 'string' ? o.category : undefined,
          reason: typeof o.reason === 'string' ? o.reason : undefined,
          origin: 'OUTROS',
          userID: userName,
        };
        request.occurrences.push(created);
        return { status: 200, body: created };
      }
      case `${P}/request/listOccurrences`: {
        const request = body.requestNumber !== undefined ? find(body.requestNumber) : byOrigin(body.requestNumberOrigin);
        if (!request) return error('PARAM', 'Solicitação não encontrada');
        const list = [...request.occurrences];
        return { status: 200, body: listShape === 'array' ? list : { [listShape]: list } };
      }
      case ATTACHMENTS: {
        const request = find(body.requestNumber);
        const files = body.attachments as Array<Record<string, unknown>> | undefined;
        if (body.mediaType !== 'application/json' || !request || !Array.isArray(files) || files.some((f) => typeof f.name !== 'string' || typeof f.content !== 'string' || typeof f.extension !== 'string')) {
          return { status: 500, body: { error: { code: 'INTERNAL', description: 'campo obrigatório ausente' } } };
        }
        for (const f of files) request.attachments.push({ name: String(f.name), extension: String(f.extension), bytes: Buffer.from(String(f.content), 'base64') });
        return { status: 200, body: { dateTimeMilliseconds: Date.now() } };
      }
      default:
        return { status: 404, body: { error: { code: 'PARAM', description: `operação ${path} não existe` } } };
    }
  }

  /** The session check: 412 SESSION for an unknown one; counts calls against the expiry setting. */
  function sessionProblem(body: Record<string, unknown>): boolean {
    const id = body.sessionID;
    if (typeof id !== 'string' || !sessions.has(id)) return true;
    const left = sessions.get(id)! - 1;
    if (left < 0) {
      sessions.delete(id);
      return true;
    }
    sessions.set(id, left);
    return false;
  }

  /** `{"occurrences":[{…},{…},…]}` of exactly `total` bytes, written chunk by chunk as the client reads. */
  async function streamHuge(res: ServerResponse, total: number, declare: boolean): Promise<void> {
    huge.written = 0;
    huge.total = total;
    res.writeHead(200, { 'content-type': 'application/json', ...(declare ? { 'content-length': String(total) } : {}) });
    const head = '{"occurrences":[';
    const tail = ']}';
    const item = JSON.stringify({ number: 1, description: 'x'.repeat(60_000), userID: 'agente.ana', category: 'Retorno' });
    const write = async (chunk: string) => {
      huge.written += Buffer.byteLength(chunk);
      if (!res.write(chunk)) await new Promise<void>((resolve) => (res.once('drain', resolve), res.once('close', resolve)));
    };
    await write(head);
    let left = total - head.length - tail.length;
    let first = true;
    while (left > 0 && !res.destroyed) {
      const sep = first ? '' : ',';
      // The last piece pads with spaces (JSON allows them) so the body is exactly `total` bytes.
      const piece = left >= sep.length + item.length ? sep + item : ' '.repeat(left);
      first = false;
      left -= piece.length;
      await write(piece);
    }
    if (!res.destroyed) res.end(tail);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      body = {};
    }
    const call: SimCall = { path: path.replace(/^\/4biz/, ''), body, status: 0 };
    calls.push(call);
    if (redirecting.count > 0) {
      redirecting.count--;
      call.status = 302;
      res.writeHead(302, { location: redirecting.location }).end();
      return;
    }
    if (down || failing.count > 0) {
      const s = down ? 503 : failing.status;
      const code = down ? undefined : failing.code;
      if (!down) failing = { ...failing, count: failing.count - 1 };
      if (code) return fail(res, call, code, 'falha simulada', s);
      call.status = s;
      res.writeHead(s, { 'content-type': 'text/html' });
      res.end('<html><body>Serviço em manutenção</body></html>');
      return;
    }
    if (req.method !== 'POST') {
      call.status = 405;
      res.writeHead(405).end();
      return;
    }
    if (path === `${P}/login`) {
      if (body.userName !== userName || body.password !== password || typeof body.platform !== 'string') {
        return fail(res, call, 'PERMISSION', 'Usuário ou senha inválidos');
      }
      const id = randomUUID().replace(/-/g, '');
      sessions.set(id, sessionCalls > 0 ? sessionCalls : Infinity);
      loginCount++;
      return answer(res, call, 200, { SessionID: id });
    }
    if (sessionProblem(body)) {
      // The webmvc services answer a bad token with 401 and their own envelope.
      if (path === ATTACHMENTS) return answer(res, call, 401, { status: 401, code: 'SESSION', message: 'Token inválido' });
      return fail(res, call, 'SESSION', 'Sessão não existe ou está expirada', 412);
    }
    const out = route(path, body);
    const big = hugeNext.get(call.path);
    if (big) {
      hugeNext.delete(call.path);
      call.status = 200;
      return streamHuge(res, big.bytes, big.declare);
    }
    const delay = late.get(call.path);
    if (delay !== undefined) {
      late.delete(call.path);
      await new Promise((r) => setTimeout(r, delay));
      if (res.destroyed || req.socket.destroyed) {
        call.status = out.status;
        return;
      }
    }
    answer(res, call, out.status, out.body);
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
    requestByOrigin: (numberOrigin) => byOrigin(numberOrigin),
    request: mustFind,
    expireSessions: () => sessions.clear(),
    expireSessionsEvery(count) {
      sessionCalls = count;
    },
    setDown(value) {
      down = value;
    },
    failNext(count, httpStatus = 500, code) {
      failing = { count, status: httpStatus, code };
    },
    redirectNext(count, location) {
      redirecting = { count, location };
    },
    answerLate(path, delayMs) {
      late.set(path, delayMs);
    },
    answerHuge(path, bytes, o = {}) {
      hugeNext.set(path, { bytes, declare: o.declare ?? false });
    },
    huge,
    reserveOccurrenceNumber: () => nextOccurrence++,
    addAgentOccurrence(requestNumber, description, o = {}) {
      const request = mustFind(requestNumber);
      const occurrence: SimOccurrence = {
        number: o.number ?? nextOccurrence++,
        description,
        ...stamp(),
        category: o.category === null ? undefined : (o.category ?? 'Retorno'),
        origin: 'PESSOALMENTE',
        userID: o.agent ?? 'agente.ana',
      };
      request.occurrences.push(occurrence);
      return occurrence;
    },
    resolve(requestNumber, solution, code = 'Resolvida') {
      const request = mustFind(requestNumber);
      request.status = status(code);
      request.solution = solution;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
