import { z } from 'zod';

/**
 * The answers of 4biz's REST API ("Citrest") as its public documentation describes them
 * (docs/4biz-api.md), read tolerantly where the documentation is vague or its examples disagree.
 * The calls themselves are in tickets.ts.
 */

/** Status codes (and names) after which nothing more happens on a request: the conversation ends. */
const FINISHED_STATUSES = new Set(['resolvida', 'fechada', 'cancelada']);

const idSchema = z.union([z.string().min(1), z.number()]).transform(String);

/**
 * Citrest's `CtError {code, description}` under `error`, or the webmvc envelope `{status, code,
 * message}`: either way a code and a description.
 */
export const errorSchema = z
  .object({ error: z.object({ code: idSchema, description: z.string().nullish() }).passthrough().nullish(), code: idSchema.optional(), message: z.string().nullish() })
  .passthrough()
  .transform((e) => ({
    citrest: e.error ? { code: e.error.code, description: e.error.description ?? undefined } : undefined,
    webmvc: e.code ? { code: e.code, description: e.message ?? undefined } : undefined,
  }));

/** `status` is documented as `{code, name}`; a plain string is accepted too. */
const statusSchema = z.union([
  z.string().min(1).transform((s) => ({ code: s, name: s })),
  z
    .object({ code: idSchema.optional(), name: z.string().nullish() })
    .passthrough()
    .refine((s) => s.code !== undefined || Boolean(s.name), 'status has neither code nor name')
    .transform((s) => ({ code: s.code ?? s.name!, name: s.name ?? s.code! })),
]);

/** CtRequest attributes at the top level of the answer (documented) or under `request` (accepted). */
export const requestSchema = z.preprocess(
  (v) => (v && typeof v === 'object' && 'request' in v && (v as { request: unknown }).request && typeof (v as { request: unknown }).request === 'object' ? { ...(v as object), ...(v as { request: object }).request } : v),
  z.object({ number: idSchema, numberOrigin: idSchema.nullish(), status: statusSchema.nullish(), solution: z.string().nullish() }).passthrough(),
);

export const loginSchema = z
  .object({ SessionID: z.string().min(1).optional(), sessionID: z.string().min(1).optional() })
  .passthrough()
  .refine((v) => v.SessionID ?? v.sessionID, 'no SessionID in the login answer')
  .transform((v) => (v.SessionID ?? v.sessionID)!);

/**
 * listOccurrences documents its categories in Portuguese (Acompanhamento, Retorno, …) and, in its
 * translated list, in English: the English names 4biz may answer map to the Portuguese ones the
 * tenant lists. Only the pairs the two lists give unambiguously.
 */
const ENGLISH_CATEGORIES: Record<string, string> = {
  creation: 'Criacao',
  monitoring: 'Acompanhamento',
  update: 'Atualizacao',
  diagnosis: 'Diagnostico',
  investigation: 'Investigacao',
  memo: 'Memorando',
  information: 'Informacao',
  return: 'Retorno',
  symptom: 'Sintoma',
  outline: 'Contorno',
  executing: 'Execucao',
};

function categoryName(raw: string | undefined): string | undefined {
  const name = raw?.trim();
  if (!name) return undefined;
  return ENGLISH_CATEGORIES[name.toLowerCase()] ?? name;
}

const occurrenceSchema = z
  .object({
    number: idSchema,
    numberOrigin: idSchema.nullish(),
    description: z.string().nullish(),
    userID: idSchema.nullish(),
    userId: idSchema.nullish(),
    // A string in listOccurrences' documentation, `{code}` in its example: either; anything else is "none".
    category: z
      .union([z.string(), z.object({ code: z.string().nullish(), name: z.string().nullish() }).passthrough()])
      .nullish()
      .catch(undefined)
      .transform((c) => categoryName(typeof c === 'string' ? c : (c?.code ?? c?.name ?? undefined))),
  })
  .passthrough();

/** The collection's property name is not documented: `occurrences`, `ocurrences` or a bare array. */
export const occurrenceListSchema = z.preprocess((v) => {
  if (Array.isArray(v)) return v;
  const o = (v ?? {}) as Record<string, unknown>;
  return o.occurrences ?? o.ocurrences ?? (o.request as Record<string, unknown> | undefined)?.occurrences ?? [];
}, z.array(occurrenceSchema));

export const anything = z.unknown();

const isFinished = (s: { code: string; name: string }) =>
  [s.code, s.name].some((v) => FINISHED_STATUSES.has(v.normalize('NFD').replace(/\p{M}/gu, '').trim().toLowerCase()));

/** A request's status as the poller needs it: its name, and whether the request is finished. */
export function requestStatus(status: { code: string; name: string } | null | undefined): { status: string; finished: boolean } {
  const s = status ?? { code: 'EmAndamento', name: 'Em andamento' };
  return { status: s.name, finished: isFinished(s) };
}
