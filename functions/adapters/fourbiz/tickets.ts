import { z } from 'zod';
import type { TicketsSettings } from '../../config';
import type { Conversation } from '../../core/conversation';
import { compareOccurrenceIds } from '../../core/reply-sync';
import { classifyHttpStatus, PermanentError, TransientError } from '../../core/errors';
import type { InboundMessage } from '../../core/x-events';
import type { SecretSource } from '../secrets';
import type { DeliveryResult, FourBizClient } from '../../core/ports';

/**
 * tickets mode: 4biz's REST API ("Citrest"). Every path and field name of that API lives in this
 * file (documented in docs/4biz-api.md): a conversation becomes a request, each later DM an
 * occurrence on it; the poller reads occurrences and the request's status back.
 */
const Path = {
  login: '/services/login',
  create: '/services/request/create',
  createOccurrence: '/services/request/createOccurrence',
  getById: '/services/request/getById',
  listOccurrences: '/services/request/listOccurrences',
} as const;

/** 4biz statuses after which nothing more happens on a request: the conversation ends. */
const FINISHED_STATUSES = new Set(['resolvida', 'fechada', 'cancelada']);

/** Error codes 4biz answers (with HTTP 200 or 401) when the SessionID is unknown or expired. */
const SESSION_ERROR_CODES = new Set(['INVALID_SESSION', 'SESSION_EXPIRED', 'E_SESSION']);

const errorSchema = z.object({ code: z.union([z.string(), z.number()]).transform(String), description: z.string().optional() }).passthrough();

/** Every Citrest answer: the operation's id and time, and `error` (null when it worked). */
const envelope = z.object({ error: errorSchema.nullish(), operationID: z.number().optional(), dateTime: z.number().optional() }).passthrough();

const idSchema = z.union([z.string().min(1), z.number()]).transform(String);

const loginResponse = envelope.extend({ SessionID: z.string().min(1) });
const createResponse = envelope.extend({ number: idSchema });
const createOccurrenceResponse = envelope.extend({ occurrence: z.object({ id: idSchema }).passthrough() });
const getByIdResponse = envelope.extend({
  request: z
    .object({
      number: idSchema,
      numberOrigin: z.string().nullish(),
      status: z.string().min(1),
      solution: z.string().nullish(),
    })
    .passthrough(),
});
const listOccurrencesResponse = envelope.extend({
  occurrences: z.array(
    z
      .object({
        id: idSchema,
        numberOrigin: z.string().nullish(),
        description: z.string(),
        date: z.string().optional(),
        hour: z.string().optional(),
        category: z.string().nullish(),
        registeredBy: z.object({ id: idSchema.optional(), login: z.string(), name: z.string().optional() }).passthrough(),
      })
      .passthrough(),
  ),
});

/** A 4biz request as the poller needs it. */
export interface FourBizRequest {
  number: string;
  status: string;
  solution?: string;
  /** Resolvida, Fechada or Cancelada: the conversation ends with the solution text. */
  finished: boolean;
}

export interface FourBizOccurrence {
  id: string;
  description: string;
  authorLogin: string;
  /** Written by the bridge itself (the person's own DMs): never sent back to them. */
  byIntegrationUser: boolean;
}

export interface TicketsClient extends FourBizClient {
  readonly mode: 'tickets';
  getRequest(requestNumber: string): Promise<FourBizRequest>;
  /** The request's occurrences, oldest first. */
  listOccurrences(requestNumber: string): Promise<FourBizOccurrence[]>;
}

export interface TicketsClientOptions {
  fetch?: typeof fetch;
  now?: () => Date;
}

class SessionExpired extends Error {}

/** The DM as 4biz agents read it: text, then attachments and the quick-reply choice as lines. */
export function describeMessage(message: InboundMessage): string {
  const lines = [message.text];
  for (const a of message.attachments) {
    const what = a.mediaType ?? a.type;
    lines.push(a.url ? `[Anexo (${what}): ${a.url}]` : `[Anexo (${what}) sem link]`);
  }
  if (message.quickReply) lines.push(`[Resposta rápida: ${message.quickReply.metadata ?? message.quickReply.type}]`);
  return lines.filter((l) => l !== '').join('\n');
}

function requesterLabel(message: InboundMessage): string {
  const handle = message.sender.handle ? `@${message.sender.handle}` : `X user ${message.sender.id}`;
  return message.sender.name ? `${message.sender.name} (${handle})` : handle;
}

/** 4biz wants the local date and time of the occurrence in Brazil, as "YYYY-MM-DD" and "HH:MM". */
function dateAndHour(at: Date): { date: string; hour: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: 'America/Sao_Paulo',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { date: `${parts.year}-${parts.month}-${parts.day}`, hour: `${parts.hour}:${parts.minute}` };
}

export function createTicketsClient(settings: TicketsSettings, secrets: SecretSource, options: TicketsClientOptions = {}): TicketsClient {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  const base = settings.baseUrl.replace(/\/+$/, '');
  let session: Promise<string> | undefined;

  async function post<T>(path: string, body: unknown, schema: z.ZodType<T, z.ZodTypeDef, unknown>): Promise<T> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (err) {
      const e = err as Error;
      const why = e.name === 'TimeoutError' ? `no answer within ${settings.timeoutMs} ms` : e.message;
      throw new TransientError(`4biz ${path}: ${why}`);
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const env = envelope.safeParse(json);
    const error = env.success ? env.data.error : undefined;
    if (res.status === 401 || (error && SESSION_ERROR_CODES.has(error.code))) throw new SessionExpired(path);
    if (!res.ok) {
      const message = `4biz ${path} answered HTTP ${res.status}${error ? ` (${error.code})` : ''}`;
      throw classifyHttpStatus(res.status) === 'permanent' ? new PermanentError(message, res.status) : new TransientError(message, res.status);
    }
    if (error) throw new PermanentError(`4biz ${path} refused: ${error.code}${error.description ? ` ${error.description}` : ''}`, res.status);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      // A 200 we cannot read is most likely a proxy or maintenance page: try again later.
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      throw new TransientError(`4biz ${path}: unexpected answer (${issues})`, res.status);
    }
    return parsed.data;
  }

  async function login(): Promise<string> {
    const secret = await secrets.get();
    if (!secret.fourbizUser || !secret.fourbizPassword) {
      throw new PermanentError('tickets mode needs fourbizUser and fourbizPassword in the tenant secret');
    }
    try {
      const out = await post(Path.login, { userName: secret.fourbizUser, password: secret.fourbizPassword, platform: settings.platform }, loginResponse);
      return out.SessionID;
    } catch (err) {
      // The password may have been rotated: read the secret again next time.
      if (err instanceof PermanentError || err instanceof SessionExpired) secrets.invalidate();
      if (err instanceof SessionExpired) throw new PermanentError('4biz refused the integration user\'s login', 401);
      throw err;
    }
  }

  function currentSession(): Promise<string> {
    session ??= login().catch((err: unknown) => {
      session = undefined;
      throw err;
    });
    return session;
  }

  /** One call with the cached session; on an expired session, one new login and one more try. */
  async function call<T>(path: string, body: Record<string, unknown>, schema: z.ZodType<T, z.ZodTypeDef, unknown>): Promise<T> {
    const used = await currentSession();
    try {
      return await post(path, { sessionID: used, ...body }, schema);
    } catch (err) {
      if (!(err instanceof SessionExpired)) throw err;
    }
    // Concurrent callers that saw the same expired session share one login.
    if (session && (await session.catch(() => undefined)) === used) session = undefined;
    const fresh = await currentSession();
    try {
      return await post(path, { sessionID: fresh, ...body }, schema);
    } catch (err) {
      if (err instanceof SessionExpired) {
        session = undefined;
        throw new TransientError(`4biz ${path}: session rejected right after a new login`, 401);
      }
      throw err;
    }
  }

  async function createRequest(message: InboundMessage, conversation: Conversation): Promise<string> {
    const who = requesterLabel(message);
    const out = await call(
      Path.create,
      {
        synchronize: true,
        sourceRequest: {
          numberOrigin: conversation.conversationId,
          type: 'R',
          description: `Mensagem direta no X de ${who}:\n\n${describeMessage(message)}`,
          userID: message.sender.handle ? `@${message.sender.handle}` : `x:${message.sender.id}`,
          contact: { name: who },
          contractID: settings.contractId,
          activityID: settings.activityId,
          groupID: settings.groupId,
          unitID: settings.unitId,
          originID: settings.originId,
          urgency: settings.urgency,
          impact: settings.impact,
        },
      },
      createResponse,
    );
    return out.number;
  }

  function sentAt(message: InboundMessage): Date {
    const at = new Date(Number(message.createdTimestamp));
    return Number.isNaN(at.getTime()) ? now() : at;
  }

  async function addOccurrence(message: InboundMessage, requestNumber: string): Promise<void> {
    await call(
      Path.createOccurrence,
      {
        requestNumber,
        occurrence: {
          // The DM's event id: a retried delivery is recognisable as the same occurrence.
          numberOrigin: message.eventId,
          description: describeMessage(message),
          ...dateAndHour(sentAt(message)),
          category: settings.occurrenceCategory,
          reason: settings.occurrenceReason,
        },
      },
      createOccurrenceResponse,
    );
  }

  return {
    mode: 'tickets',

    async deliver(message, conversation): Promise<DeliveryResult> {
      if (conversation.requestNumber === undefined) return { requestNumber: await createRequest(message, conversation) };
      await addOccurrence(message, conversation.requestNumber);
      return { requestNumber: conversation.requestNumber };
    },

    async getRequest(requestNumber) {
      const { request } = await call(Path.getById, { number: requestNumber }, getByIdResponse);
      return {
        number: request.number,
        status: request.status,
        solution: request.solution ?? undefined,
        finished: FINISHED_STATUSES.has(request.status.trim().toLowerCase()),
      };
    },

    async listOccurrences(requestNumber) {
      const [{ occurrences }, secret] = await Promise.all([
        call(Path.listOccurrences, { requestNumber }, listOccurrencesResponse),
        secrets.get(),
      ]);
      const integrationUser = (secret.fourbizUser ?? '').toLowerCase();
      return occurrences
        .map((o) => ({
          id: o.id,
          description: o.description,
          authorLogin: o.registeredBy.login,
          byIntegrationUser: o.registeredBy.login.toLowerCase() === integrationUser,
        }))
        .sort((a, b) => compareOccurrenceIds(a.id, b.id));
    },
  };
}
