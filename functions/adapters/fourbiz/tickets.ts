import { z } from 'zod';
import type { TicketsSettings } from '../../config';
import type { Conversation } from '../../core/conversation';
import { compareDecimalIds } from '../../core/decimal-ids';
import { AnswerTooLargeError, BridgeError, fourbizHttpError, FourbizAuthError, PermanentError, RequestFinishedError, TransientError } from '../../core/errors';
import type { InboundMessage } from '../../core/x-events';
import type { SecretSource } from '../secrets';
import type { DownloadedMedia, XMediaDownloader } from '../x-media';
import type { DeliveryContext, DeliveryResult, FourbizClient, FourbizOccurrence, FourbizRequest } from '../../core/ports';
import { formatZodIssues } from '../../core/zod-issues';
import { anything, errorSchema, loginSchema, occurrenceListSchema, requestSchema, requestStatus } from './citrest-answers';
import { describeFetchFailure } from '../fetch-failure';
import { readBounded } from '../bounded-read';

/**
 * tickets mode: 4biz's REST API ("Citrest"), as its public documentation describes it
 * (docs/4biz-api.md: the sources and our reading of them). Every path and request field of that
 * API lives in this file, the answers' shapes in citrest-answers.ts: a conversation becomes a
 * request (`numberOrigin` = the conversation id), each later DM an occurrence on it (`numberOrigin` = the DM event id), a DM's
 * media an attachment; the poller reads occurrences and the request's status back.
 */
const Path = {
  login: '/services/login',
  create: '/services/request/create',
  createOccurrence: '/services/request/createOccurrence',
  getById: '/services/request/getById',
  listOccurrences: '/services/request/listOccurrences',
  addAttachments: '/webmvc/services/request/addAttachments',
} as const;


export interface TicketsClient extends FourbizClient {
  readonly mode: 'tickets';
  /** Logs the integration user in (a new session): `npm run doctor` checks the credentials with it. */
  verifyLogin(): Promise<void>;
  getRequest(requestNumber: string): Promise<FourbizRequest>;
  /** The request's occurrences, oldest first. */
  listOccurrences(requestNumber: string): Promise<FourbizOccurrence[]>;
}

export interface TicketsClientOptions {
  fetch?: typeof fetch;
  now?: () => Date;
  /** Downloads a DM's photo, GIF or video to attach it; without it media stays a link. */
  media?: XMediaDownloader;
}

/** 4biz does not know the session (HTTP 401/412 or code SESSION): log in again. */
class SessionExpired extends BridgeError {}

/** 4biz answered with an error code (PARAM, INPUT, …): what the caller does depends on the call. */
class Refused extends PermanentError {
  constructor(
    message: string,
    readonly code: string,
    status: number,
  ) {
    super(message, status);
  }
}

/** A media file ready to attach, and the line naming it in the text. */
interface Attachment {
  name: string;
  extension: string;
  content: string;
}

/** The DM as 4biz agents read it: text, then attachments (file name or link) and the quick-reply choice as lines. */
function describeMessage(message: InboundMessage, attachedNames: ReadonlyMap<number, string> = new Map()): string {
  const lines = [message.text];
  message.attachments.forEach((a, i) => {
    const what = a.mediaType ?? a.type;
    const name = attachedNames.get(i);
    // The link stays next to the file name: an agent can still open it if the attachment is missing.
    if (name) lines.push(`[Anexo (${what}): ${name}${a.url ? ` — ${a.url}` : ''}]`);
    else lines.push(a.url ? `[Anexo (${what}): ${a.url}]` : `[Anexo (${what}) sem link]`);
  });
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

const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'video/mp4': 'mp4' };

function extensionOf(media: DownloadedMedia, url: string): string {
  const fromType = media.contentType ? EXTENSIONS[media.contentType.split(';')[0]!.trim().toLowerCase()] : undefined;
  const fromUrl = /\.([a-z0-9]{2,5})$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  return fromType ?? fromUrl ?? 'bin';
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
        // Never follow a redirect: the body carries the password or the session to wherever it points.
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (err) {
      throw new TransientError(`4biz ${path}: ${describeFetchFailure(err, settings.timeoutMs)}`, undefined, undefined, { cause: err });
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      const where = res.headers.get('location');
      throw new TransientError(`4biz ${path} answered a redirect (HTTP ${res.status}${where ? ` to ${where}` : ''}); redirects are not followed: check fourbiz.baseUrl`, res.status);
    }
    // Every answer within the tenant's cap: a runaway list must not take the function's memory.
    // A body cut off mid-read counts as none, as before: what follows decides from the status.
    const answer = await readBounded(res, settings.responseMaxBytes).catch(() => ({ ok: true as const, bytes: Buffer.alloc(0) }));
    if (!answer.ok) throw new AnswerTooLargeError(`4biz ${path} answered HTTP ${res.status} with a body ${answer.reason} (fourbiz.responseMaxBytes): not read`, res.status);
    const text = answer.bytes.toString('utf8');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const envelope = errorSchema.safeParse(json).data;
    // The webmvc envelope's `code` is an error only on an error status: a success may carry one too.
    const error = envelope?.citrest ?? (res.ok ? undefined : envelope?.webmvc);
    const code = error?.code.toUpperCase();
    const what = `4biz ${path} answered HTTP ${res.status}${error ? ` (${error.code}${error.description ? `: ${error.description}` : ''})` : ''}`;
    if (res.status === 401 || res.status === 412 || code === 'SESSION') throw new SessionExpired(what);
    if (res.status === 403 || code === 'PERMISSION') throw new FourbizAuthError(`${what}: the integration user lacks the permission`, res.status);
    if (code === 'INTERNAL' || res.status >= 500 || res.status === 408 || res.status === 429) throw new TransientError(what, res.status);
    if (error) throw new Refused(what, code!, res.status);
    if (!res.ok) throw fourbizHttpError(res.status, what, res.headers.get('content-type'));
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      // A 200 we cannot read is most likely a proxy or maintenance page: try again later.
      const issues = formatZodIssues(parsed.error, { root: '(body)' });
      throw new TransientError(`4biz ${path}: unexpected answer (${issues})`, res.status);
    }
    return parsed.data;
  }

  async function login(): Promise<string> {
    const secret = await secrets.get();
    if (!secret.fourbizUser || !secret.fourbizPassword) {
      // A secret someone has yet to fill: DMs wait and the alarm fires, rather than filling the DLQ.
      secrets.invalidate();
      throw new FourbizAuthError('tickets mode needs fourbizUser and fourbizPassword in the tenant secret: fill them in');
    }
    try {
      return await post(Path.login, { userName: secret.fourbizUser, password: secret.fourbizPassword, platform: settings.platform }, loginSchema);
    } catch (err) {
      if (err instanceof TransientError && !(err instanceof FourbizAuthError)) throw err;
      // Refused however 4biz says it: the password may have been rotated, so read the secret again next time.
      secrets.invalidate();
      throw new FourbizAuthError(`4biz refused the integration user's login: ${(err as Error).message}`, (err as { status?: number }).status);
    }
  }

  function currentSession(): Promise<string> {
    session ??= login().catch((err: unknown) => {
      session = undefined;
      throw err;
    });
    return session;
  }

  /**
   * One call with the cached session. On an expired session: one new login of our own and one
   * repeat; a session another caller renewed meanwhile is used without counting as ours. A
   * session refused right after our own login means 4biz does not let the user in: an auth failure.
   */
  async function call<T>(path: string, body: Record<string, unknown>, schema: z.ZodType<T, z.ZodTypeDef, unknown>): Promise<T> {
    let used = await currentSession();
    let ownLogins = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await post(path, { sessionID: used, ...body }, schema);
      } catch (err) {
        if (!(err instanceof SessionExpired)) throw err;
        const current = session && (await session.catch(() => undefined));
        if (current !== undefined && current !== used && attempt < 3) {
          used = current;
          continue;
        }
        if (ownLogins++ >= 1 || attempt >= 3) {
          if (session && current === used) session = undefined;
          throw new FourbizAuthError(`${err.message}: session refused right after a new login`, 412);
        }
        if (current === used) session = undefined;
        used = await currentSession();
      }
    }
  }

  /** The request 4biz holds under our numberOrigin, or undefined when it has none. */
  async function findByOrigin(numberOrigin: string): Promise<string | undefined> {
    try {
      return (await call(Path.getById, { numberOrigin }, requestSchema)).number;
    } catch (err) {
      // An unknown numberOrigin is answered with an error code (not documented which): "not there".
      if (err instanceof Refused) return undefined;
      throw err;
    }
  }

  /** Did this attempt maybe reach 4biz? A timeout or a 5xx may have been applied; a refusal was not. */
  const uncertain = (err: unknown) => err instanceof TransientError && !(err instanceof FourbizAuthError);

  async function createRequest(message: InboundMessage, conversation: Conversation, text: string, context: DeliveryContext): Promise<string> {
    const numberOrigin = conversation.conversationId;
    // An earlier attempt may have created it: look before creating a second one.
    if (context.retried) {
      const found = await findByOrigin(numberOrigin);
      if (found) return found;
    }
    const who = requesterLabel(message);
    const sourceRequest = {
      numberOrigin,
      type: settings.requestType,
      description: `Mensagem direta no X de ${who}:\n\n${text}`,
      userID: message.sender.handle ? `@${message.sender.handle}` : `x:${message.sender.id}`,
      contact: { name: who },
      ...(settings.contractId !== undefined ? { contractID: settings.contractId } : {}),
      ...(settings.serviceCode ? { service: { code: settings.serviceCode } } : {}),
      ...(settings.groupId ? { groupId: settings.groupId } : {}),
      urgency: settings.urgency,
      impact: settings.impact,
    };
    try {
      return (await call(Path.create, { synchronize: true, sourceRequest }, requestSchema)).number;
    } catch (err) {
      // 4biz rejects a numberOrigin it has seen, and a timed-out create may have been stored:
      // either way, the request that exists is ours.
      if (err instanceof Refused) {
        // A look-up that fails for now must not turn the refusal into a DLQ entry: its error wins.
        const found = await findByOrigin(numberOrigin);
        if (found) return found;
      } else if (uncertain(err)) {
        const found = await findByOrigin(numberOrigin).catch(() => undefined);
        if (found) return found;
      }
      throw err;
    }
  }

  async function occurrenceExists(requestNumber: string, numberOrigin: string): Promise<boolean> {
    const list = await call(Path.listOccurrences, { requestNumber }, occurrenceListSchema);
    return list.some((o) => o.numberOrigin === numberOrigin);
  }

  function sentAt(message: InboundMessage): Date {
    const at = new Date(Number(message.createdTimestamp));
    return Number.isNaN(at.getTime()) ? now() : at;
  }

  async function addOccurrence(message: InboundMessage, requestNumber: string, text: string, context: DeliveryContext): Promise<void> {
    // The DM's event id: an earlier attempt that reached 4biz is recognisable in the list (looked at
    // first: that DM is on this request even if 4biz finished it since).
    const numberOrigin = message.eventId;
    if (context.retried && (await occurrenceExists(requestNumber, numberOrigin))) return;
    const request = await getRequest(requestNumber);
    if (request.finished) {
      throw new RequestFinishedError(`4biz request ${requestNumber} is ${request.status}: the DM waits for the poller to close the conversation, then opens a new request`);
    }
    const occurrence = {
      numberOrigin,
      description: text,
      ...dateAndHour(sentAt(message)),
      category: settings.occurrenceCategory,
      reason: settings.occurrenceReason,
    };
    try {
      await call(Path.createOccurrence, { requestNumber, occurrence }, anything);
    } catch (err) {
      if (uncertain(err) && (await occurrenceExists(requestNumber, numberOrigin).catch(() => false))) return;
      throw err;
    }
  }

  /** Downloads the DM's media within the size cap; a failure leaves that one as a link. */
  async function download(message: InboundMessage): Promise<{ names: Map<number, string>; files: Attachment[]; failures: string[] }> {
    const names = new Map<number, string>();
    const files: Attachment[] = [];
    const failures: string[] = [];
    if (!options.media) return { names, files, failures };
    for (const [i, a] of message.attachments.entries()) {
      if (!a.url) continue;
      const got = await options.media.download(a.url, settings.mediaMaxBytes);
      if (!got.ok) {
        failures.push(`${a.url}: ${got.reason}`);
        continue;
      }
      const extension = extensionOf(got.media, a.url);
      const name = `dm-${message.eventId}-${i + 1}.${extension}`;
      names.set(i, name);
      files.push({ name, extension, content: got.media.bytes.toString('base64') });
    }
    return { names, files, failures };
  }

  async function getRequest(requestNumber: string): Promise<FourbizRequest> {
    const request = await call(Path.getById, { number: requestNumber }, requestSchema);
    return { number: request.number, ...requestStatus(request.status), solution: request.solution ?? undefined };
  }

  return {
    mode: 'tickets',

    async verifyLogin() {
      await login();
    },

    async deliver(message, conversation, context = { retried: false }): Promise<DeliveryResult> {
      const media = await download(message);
      const text = describeMessage(message, media.names);
      const requestNumber =
        conversation.requestNumber === undefined
          ? await createRequest(message, conversation, text, context)
          : (await addOccurrence(message, conversation.requestNumber, text, context), conversation.requestNumber);
      if (media.files.length > 0) {
        try {
          await call(Path.addAttachments, { mediaType: 'application/json', requestNumber, attachments: media.files }, anything);
        } catch (err) {
          // Retrying the whole delivery finds the request and the occurrence already there.
          if (err instanceof TransientError) throw err;
          media.failures.push(`addAttachments: ${(err as Error).message}`);
        }
      }
      return { requestNumber, ...(media.failures.length ? { mediaFailures: media.failures } : {}) };
    },

    getRequest,

    async listOccurrences(requestNumber) {
      const [list, secret] = await Promise.all([call(Path.listOccurrences, { requestNumber }, occurrenceListSchema), secrets.get()]);
      const integrationUser = (secret.fourbizUser ?? '').toLowerCase();
      return list
        .map((o) => {
          const author = (o.userID ?? o.userId ?? '').toLowerCase();
          return {
            id: o.number,
            numberOrigin: o.numberOrigin ?? undefined,
            description: o.description ?? '',
            // Ours: written by the integration user, or carrying a numberOrigin (agents' screens set none).
            byIntegrationUser: (author !== '' && author === integrationUser) || Boolean(o.numberOrigin),
            ...(o.category !== undefined ? { category: o.category } : {}),
          };
        })
        .sort((a, b) => compareDecimalIds(a.id, b.id));
    },
  };
}
